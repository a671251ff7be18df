using System.Net;
using Kennel.ControlPlane.Http;

namespace Kennel.Tests.Units;

public sealed class OutboundAddressesTests
{
    [Theory]
    [InlineData("127.0.0.1", "a loopback address")]
    [InlineData("127.8.9.10", "a loopback address")]
    [InlineData("::1", "a loopback address")]
    [InlineData("::ffff:127.0.0.1", "a loopback address")]
    [InlineData("64:ff9b::a01:203", "a private address")]
    [InlineData("0.0.0.0", "an unspecified address")]
    [InlineData("::", "an unspecified address")]
    [InlineData("10.1.2.3", "a private address")]
    [InlineData("172.16.0.1", "a private address")]
    [InlineData("172.31.255.255", "a private address")]
    [InlineData("192.168.1.1", "a private address")]
    [InlineData("fd00::1", "a private address")]
    [InlineData("fc00::1", "a private address")]
    [InlineData("::ffff:10.0.0.1", "a private address")]
    [InlineData("169.254.169.254", "a link-local address (where cloud metadata services live)")]
    [InlineData("fe80::1", "a link-local address")]
    [InlineData("100.64.0.1", "a carrier-grade NAT address")]
    [InlineData("224.0.0.1", "a multicast address")]
    [InlineData("ff02::1", "a multicast address")]
    [InlineData("255.255.255.255", "a reserved address")]
    [InlineData("93.184.216.34", null)]
    [InlineData("172.32.0.1", null)]
    [InlineData("100.128.0.1", null)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", null)]
    public void Every_address_that_is_not_public_is_named_for_what_it_is(string address, string? kind) =>
        OutboundAddresses.Kind(IPAddress.Parse(address)).ShouldBe(kind);

    [Fact]
    public void An_allowed_network_opens_its_addresses_and_no_others()
    {
        var addresses = OutboundAddresses.Parse(" 127.0.0.0/8 , 10.0.0.0/8,fd00::/8, 192.168.1.7", out var error)!;

        error.ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("127.0.0.1")).ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("::ffff:127.0.0.1")).ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("10.200.0.1")).ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("fd12::1")).ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("192.168.1.7")).ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("93.184.216.34")).ShouldBeNull();
        addresses.Refusal(IPAddress.Parse("192.168.1.8")).ShouldBe(
            "destination 192.168.1.8 is a private address; an admin can allow it with KENNEL_OUTBOUND_ALLOW_CIDRS");
        addresses.Refusal(IPAddress.Parse("169.254.169.254"))!.ShouldContain("link-local");
        addresses.Refusal(IPAddress.Parse("::1"))!.ShouldContain("loopback");
    }

    [Fact]
    public void A_network_written_with_host_bits_means_the_whole_network() =>
        OutboundAddresses.Parse("127.0.0.1/8", out _)!.Allowed.ShouldHaveSingleItem().ToString().ShouldBe("127.0.0.0/8");

    [Fact]
    public void Nothing_set_allows_public_addresses_only()
    {
        OutboundAddresses.Parse(null, out _).ShouldBeSameAs(OutboundAddresses.PublicOnly);
        OutboundAddresses.Parse(" , ", out _).ShouldBeSameAs(OutboundAddresses.PublicOnly);
        OutboundAddresses.PublicOnly.Refusal(IPAddress.Loopback).ShouldNotBeNull();
        OutboundAddresses.Any.Refusal(IPAddress.Parse("169.254.169.254")).ShouldBeNull();
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("10.0.0.0/33")]
    [InlineData("127.0.0.0/8;10.0.0.0/8")]
    public void A_value_that_is_not_a_cidr_is_refused_naming_it(string value)
    {
        OutboundAddresses.Parse(value, out var error).ShouldBeNull();

        error.ShouldNotBeNull();
        error.ShouldContain("KENNEL_OUTBOUND_ALLOW_CIDRS");
        error.ShouldContain($"'{value}'");
    }
}
