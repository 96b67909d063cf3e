/* Temporary stand-ins for the agent's commands, so the CLI table is complete while the agent is
 * written. The agent work replaces this file. */
#include <stdio.h>

#include "cli/cmds.h"

static int not_implemented(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "%s: '%s' is not implemented in this build\n", rg_prog, argv[0]);
	return 1;
}

int cmd_up(int argc, char **argv)
{
	return not_implemented(argc, argv);
}

int cmd_down(int argc, char **argv)
{
	return not_implemented(argc, argv);
}

int cmd_status(int argc, char **argv)
{
	return not_implemented(argc, argv);
}

int cmd_invite(int argc, char **argv)
{
	return not_implemented(argc, argv);
}

int cmd_join(int argc, char **argv)
{
	return not_implemented(argc, argv);
}
