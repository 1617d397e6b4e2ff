import ArgumentParser

/// `drlrec ope`: off-policy evaluation, on the Open Bandit Dataset (the default) or on DRLRec's
/// own served logs.
struct OPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy evaluation: on the Open Bandit Dataset (obd, the default) or on a server's own logs (served).",
        subcommands: [OpenBanditOPECommand.self, ServedOPECommand.self],
        defaultSubcommand: OpenBanditOPECommand.self
    )
}
