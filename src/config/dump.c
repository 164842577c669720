/*
 * The rules part of `sysmon -c` and `sysmon config dump` (compatibility
 * spec 4.5): the layout of Sysmon's dump, so that a config's dump here reads
 * line for line like Sysmon for Linux's (compared with the recorded
 * samples in shared/reference/sysmonforlinux-samples/).
 *
 * One deliberate difference: Sysmon skips a rule set whose tag and onmatch
 * equal the previous set's, so several <ProcessCreate onmatch="include">
 * elements dump as one; here every set is printed, because a dump that hides
 * rules misleads whoever reads it.  The recorded samples contain no such
 * pair, so they come out identical either way.
 */
#include "config/config.h"

/* Bytes in the first MAX characters of TEXT: Sysmon cuts compound rule
 * names at 32 characters, and a cut must not split a UTF-8 sequence. */
static int prefix_bytes(const char *text, unsigned max)
{
	int bytes = 0;
	unsigned chars = 0;

	for (; text[bytes]; bytes++) {
		if (((unsigned char)text[bytes] & 0xc0) != 0x80 && chars++ == max)
			break;
	}
	return bytes;
}

static const char *combine_name(bool or_mode)
{
	return or_mode ? "Or" : "And";
}

void config_dump(FILE *out, const struct sysmon_config *config)
{
	const struct rule_defs *defs = &config->defs;
	unsigned aggregate_base = 0;
	char vbuf[16];

	if (config->field_sizes_text)
		fprintf(out, "%-34s%s\n", " - Field Sizes:", config->field_sizes_text);
	fputc('\n', out);
	if (defs->nsets == 0) {
		fprintf(out, "No rules installed\n");
		return;
	}
	fprintf(out, "Rule configuration (version %s):\n", schema_version_text(config->schema_version, vbuf));
	for (size_t i = 0; i < defs->nsets; i++) {
		const struct rule_set_def *set = &defs->sets[i];
		int current = -1;

		fprintf(out, " - %-34s onmatch: %s   combine rules using '%s'\n", set->event->rule_tag,
			set->exclude ? "exclude" : "include", combine_name(set->or_mode));
		for (size_t f = 0; f < set->nfilters; f++) {
			const struct rule_filter_def *filter = &set->filters[f];
			const char *field = set->event->fields[filter->field].name;
			const char *condition = schema_conditions[filter->condition];

			if (filter->aggregate < 0) {
				fprintf(out, "\t%-30s filter: %-12s value: '%s'\n", field, condition, filter->value);
				continue;
			}
			if (filter->aggregate != current) {
				const struct rule_aggregate_def *agg = &set->aggregates[filter->aggregate];

				/* Unnamed compound rules show Sysmon's aggregate id: a
				 * counter over the whole config, from 1, in set order. */
				if (agg->name)
					fprintf(out, "\tCompound Rule %.*s   combine using %s\n",
						prefix_bytes(agg->name, 32), agg->name,
						combine_name(agg->or_mode));
				else
					fprintf(out, "\tCompound Rule %04u   combine using %s\n",
						aggregate_base + (unsigned)filter->aggregate + 1, combine_name(agg->or_mode));
				current = filter->aggregate;
			}
			fprintf(out, "\t    %-30s filter: %-12s value: '%s'\n", field, condition, filter->value);
		}
		aggregate_base += (unsigned)set->naggregates;
	}
}
