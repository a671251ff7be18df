using System.Text.Json;
using System.Text.Json.Serialization;
using Kennel.Contracts.Agents;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Channels;
using Kennel.Contracts.Config;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Cost;
using Kennel.Contracts.Cron;
using Kennel.Contracts.Usage;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Quotas;
using Kennel.Contracts.Secrets;
using Kennel.Contracts.Servers;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Skills;
using Kennel.Contracts.Snapshots;
using Kennel.Contracts.Users;
using Kennel.Contracts.Workers;

namespace Kennel.Contracts;

/// <summary>The one JSON configuration: camelCase, nulls omitted, source-generated.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateSessionRequest))]
[JsonSerializable(typeof(BuildSnapshotRequest))]
[JsonSerializable(typeof(SnapshotView))]
[JsonSerializable(typeof(SnapshotViewList))]
[JsonSerializable(typeof(TagSnapshotRequest))]
[JsonSerializable(typeof(SnapshotTagHistory))]
[JsonSerializable(typeof(Session))]
[JsonSerializable(typeof(SessionPage))]
[JsonSerializable(typeof(SessionOutputEvent))]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(EnrollResponse))]
[JsonSerializable(typeof(PollRequest))]
[JsonSerializable(typeof(PollResponse))]
[JsonSerializable(typeof(SessionReport))]
[JsonSerializable(typeof(ReportResponse))]
[JsonSerializable(typeof(Worker))]
[JsonSerializable(typeof(IReadOnlyList<Worker>))]
[JsonSerializable(typeof(CreateWorkerTokenRequest))]
[JsonSerializable(typeof(WorkerToken))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(ApiKey))]
[JsonSerializable(typeof(IReadOnlyList<ApiKey>))]
[JsonSerializable(typeof(CreatedApiKey))]
[JsonSerializable(typeof(CreateDaemonRequest))]
[JsonSerializable(typeof(UpdateDaemonRequest))]
[JsonSerializable(typeof(Daemon))]
[JsonSerializable(typeof(DaemonList))]
[JsonSerializable(typeof(TriggerDaemonRequest))]
[JsonSerializable(typeof(DaemonTriggerResult))]
[JsonSerializable(typeof(CostSummary))]
[JsonSerializable(typeof(SetSecretRequest))]
[JsonSerializable(typeof(Secret))]
[JsonSerializable(typeof(SecretList))]
[JsonSerializable(typeof(DeletedSecret))]
[JsonSerializable(typeof(WorkspaceQuota))]
[JsonSerializable(typeof(SetQuotaRequest))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(SetRoleRequest))]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(IReadOnlyList<User>))]
[JsonSerializable(typeof(SigningKeyRotation))]
[JsonSerializable(typeof(ConfigValue))]
[JsonSerializable(typeof(SetConfigRequest))]
[JsonSerializable(typeof(ConfigWrite))]
[JsonSerializable(typeof(ConfigVersion))]
[JsonSerializable(typeof(ConfigVersionList))]
[JsonSerializable(typeof(RollbackConfigRequest))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(AgentList))]
[JsonSerializable(typeof(CreateConversationRequest))]
[JsonSerializable(typeof(UpdateConversationRequest))]
[JsonSerializable(typeof(Conversation))]
[JsonSerializable(typeof(ConversationPage))]
[JsonSerializable(typeof(DeletedConversation))]
[JsonSerializable(typeof(TranscriptPage))]
[JsonSerializable(typeof(SendMessageRequest))]
[JsonSerializable(typeof(CreateCronJobRequest))]
[JsonSerializable(typeof(UpdateCronJobRequest))]
[JsonSerializable(typeof(CronJob))]
[JsonSerializable(typeof(CronSchedule))]
[JsonSerializable(typeof(CronPayload))]
[JsonSerializable(typeof(CronDelivery))]
[JsonSerializable(typeof(CreatedCronJob))]
[JsonSerializable(typeof(CronJobPage))]
[JsonSerializable(typeof(RemovedCronJob))]
[JsonSerializable(typeof(InstalledSkill))]
[JsonSerializable(typeof(SkillList))]
[JsonSerializable(typeof(InstallSkillRequest))]
[JsonSerializable(typeof(UpgradeSkillRequest))]
[JsonSerializable(typeof(SkillInstallResult))]
[JsonSerializable(typeof(RemovedSkill))]
[JsonSerializable(typeof(SkillRegistryList))]
[JsonSerializable(typeof(SkillBrowseResult))]
[JsonSerializable(typeof(BrowsedSkill))]
[JsonSerializable(typeof(CronRun))]
[JsonSerializable(typeof(CronRunPage))]
[JsonSerializable(typeof(CronRunFinished))]
[JsonSerializable(typeof(Run))]
[JsonSerializable(typeof(RunPage))]
[JsonSerializable(typeof(RunEvent))]
[JsonSerializable(typeof(AgentStatus))]
[JsonSerializable(typeof(UsageReport))]
[JsonSerializable(typeof(ConversationUsageReport))]
[JsonSerializable(typeof(TestConnectionRequest))]
[JsonSerializable(typeof(ConnectionTest))]
[JsonSerializable(typeof(AddServerRequest))]
[JsonSerializable(typeof(AddServerEc2Request))]
[JsonSerializable(typeof(Server))]
[JsonSerializable(typeof(ServerList))]
[JsonSerializable(typeof(ServerSteps))]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(ChannelStatusList))]
[JsonSerializable(typeof(ChannelActionRequest))]
[JsonSerializable(typeof(ChannelActionResult))]
[JsonSerializable(typeof(ChannelMessagePage))]
[JsonSerializable(typeof(ChannelReceipt))]
[JsonSerializable(typeof(ChannelRegistration))]
[JsonSerializable(typeof(RegisterChannelRequest))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
public sealed partial class KennelJson : JsonSerializerContext
{
    /// <summary>For reading requests at the edge: an unknown field is an error, so a typo never passes silently.</summary>
    public static JsonSerializerOptions Strict => StrictOptions.Value;

    // Built on first use: a static initializer here would run before the generated Default exists.
    private static readonly Lazy<JsonSerializerOptions> StrictOptions = new(() => new JsonSerializerOptions(Default!.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    });
}
