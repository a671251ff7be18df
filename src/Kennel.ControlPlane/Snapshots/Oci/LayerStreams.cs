using System.IO.Compression;
using ZstdSharp;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>Opens a layer blob as its tar: gzip and zstd are told apart by their magic bytes, whatever the media type claims.</summary>
internal static class LayerStreams
{
    public static Stream OpenTar(string blobPath)
    {
        var file = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
        Span<byte> magic = stackalloc byte[4];
        var read = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        file.Position = 0;
        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return new GZipStream(file, CompressionMode.Decompress);
        }
        if (read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            return new DecompressionStream(file);
        }
        return file;
    }
}
