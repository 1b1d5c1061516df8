namespace Dora.Worker; internal static class Placeholder { }
