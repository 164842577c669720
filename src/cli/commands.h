/*
 * The commands of the sysmon program, one file each under cli/.  main.c
 * maps Sysmon's switches and our subcommands onto them.  Each returns the
 * process exit status (see EXIT STATUS in sysmon(8)).
 */
#ifndef SYSMON_COMMANDS_H
#define SYSMON_COMMANDS_H

#include "util/exitcodes.h"

int cmd_schema(int argc, char **argv);   /* -s [version|all] */
int cmd_install(int argc, char **argv);  /* -i [config] */
int cmd_configure(int argc, char **argv); /* -c [config|--] */
int cmd_uninstall(int argc, char **argv); /* -u [force] */
int cmd_service(int argc, char **argv);  /* service start|stop|restart|reload|status */
int cmd_config(int argc, char **argv);   /* config check|test|dump FILE */
int cmd_run(int argc, char **argv);      /* run: the monitor in the foreground */
int cmd_status(int argc, char **argv);   /* status: the outputs' state */
int cmd_outputs(int argc, char **argv);  /* outputs check|show */
int cmd_log(int argc, char **argv);      /* log info|set|clear|export, wevtutil's gl|sl|cl|epl|qe */
int cmd_query(int argc, char **argv);    /* query: filter, format, count the event log */

#endif
