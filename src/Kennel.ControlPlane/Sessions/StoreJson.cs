using System.Text.Json.Serialization;

namespace Kennel.ControlPlane.Sessions;

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredSessionSpec))]
[JsonSerializable(typeof(Kennel.Contracts.Sessions.SessionEgress))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class StoreJson : JsonSerializerContext;
