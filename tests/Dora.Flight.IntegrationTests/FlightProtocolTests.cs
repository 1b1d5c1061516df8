using Google.Protobuf.Reflection;

namespace Dora.Flight.IntegrationTests;

/// <summary>
/// Dora declares the Flight wire contract itself (src/Dora.Flight/Protocol/Flight.proto). These tests hold it to the
/// definition Apache.Arrow.Flight ships: same package, service, methods, messages, field numbers and types, so both
/// describe the same bytes.
/// </summary>
public sealed class FlightProtocolTests
{
    private static FileDescriptor Ours => Protocol.FlightReflection.Descriptor;

    private static FileDescriptor Apaches => (FileDescriptor)typeof(Apache.Arrow.Flight.Client.FlightClient).Assembly
        .GetType("Apache.Arrow.Flight.Protocol.FlightReflection", throwOnError: true)!
        .GetProperty("Descriptor")!.GetValue(null)!;

    [Fact]
    public void The_service_has_the_same_name_and_methods()
    {
        Assert.Equal(Apaches.Package, Ours.Package);
        ServiceDescriptor ours = Assert.Single(Ours.Services);
        ServiceDescriptor theirs = Apaches.FindTypeByName<ServiceDescriptor>("FlightService");
        Assert.Equal(theirs.FullName, ours.FullName);
        Assert.Equal(Describe(theirs), Describe(ours));
    }

    [Fact]
    public void Every_message_has_the_same_fields_numbers_and_types()
    {
        Assert.NotEmpty(Ours.MessageTypes);
        foreach (MessageDescriptor ours in Ours.MessageTypes)
        {
            MessageDescriptor? theirs = Apaches.FindTypeByName<MessageDescriptor>(ours.Name);
            Assert.True(theirs is not null, $"Apache's Flight.proto has no message {ours.Name}");
            Assert.Equal(Describe(theirs), Describe(ours));
        }
    }

    private static string TypeName(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Message => field.MessageType.FullName,
        FieldType.Enum => field.EnumType.FullName,
        _ => "",
    };

    private static List<string> Describe(ServiceDescriptor service) =>
        [.. service.Methods.Select(m => $"{m.Name}({(m.IsClientStreaming ? "stream " : "")}{m.InputType.FullName}) -> {(m.IsServerStreaming ? "stream " : "")}{m.OutputType.FullName}")];

    private static List<string> Describe(MessageDescriptor message) =>
    [
        .. message.Fields.InFieldNumberOrder().Select(f =>
            $"{f.FieldNumber} {f.Name} {f.FieldType} {(f.IsRepeated ? "repeated" : "single")} {TypeName(f)}"),
        .. message.EnumTypes.SelectMany(e => e.Values.Select(v => $"{e.Name}.{v.Name}={v.Number}")),
    ];
}
