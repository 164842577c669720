/*
 * `sysmon -s [version|all]`: print the schema manifest(s) (schema.c).
 */
#include <stdio.h>

#include "cli/commands.h"
#include "schema/schema.h"

int cmd_schema(int argc, char **argv)
{
	const char *version = argc >= 2 ? argv[1] : NULL;

	if (schema_print(stdout, version) < 0) {
		fprintf(stderr, "There is no schema that matches that version.\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
