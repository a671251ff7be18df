namespace Kennel.Store;

public sealed partial class Database
{
    static Database()
    {
        // Rows map snake_case columns onto PascalCase properties.
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
    }
}
