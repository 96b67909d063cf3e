/* riftgate subcommands: one function per command, called by riftgate.c with argv[0] set to the
 * command name. Each prints its own usage for --help and returns the process exit code
 * (0 success, 1 failure). Only src/cli prints or exits. */
#ifndef RG_CLI_CMDS_H
#define RG_CLI_CMDS_H

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_invite(int argc, char **argv);
int cmd_join(int argc, char **argv);

/* "riftgate", for messages. */
extern const char *rg_prog;

/* True for "--help" or "-h". */
static inline int cmd_is_help(const char *arg)
{
	return arg && (__builtin_strcmp(arg, "--help") == 0 || __builtin_strcmp(arg, "-h") == 0);
}

#endif
