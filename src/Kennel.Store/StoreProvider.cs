namespace Kennel.Store;

public enum StoreProvider
{
    Sqlite,
    Postgres,
}
