namespace Kennel.ControlPlane.Hosting;

/// <summary>Files that hold a secret (the bootstrap admin key, a worker's credential): mode 0600 from creation, before any byte is written.</summary>
public static class SecretFile
{
    public static FileStream Create(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Create,
        Access = FileAccess.Write,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });
}
