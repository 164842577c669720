/*
 * The event schema catalogue (see schema.h): the data of Sysmon's manifests
 * from schema 4.0 to 4.90, written as tables, and `sysmon -s`, which prints
 * them back as Sysmon's manifest XML.
 *
 * Each field and each event carries the first schema version that has it,
 * from the manifest history in the compatibility spec (section 1.2.3); the
 * layout is the newest one, so a field that older schemas lack simply has a
 * later `since`.
 */
#include "schema/schema.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define V(major, minor) SCHEMA_VERSION(major, minor)
#define BASE V(4, 0)
#define F(n, t) { n, t, BASE }
#define FS(n, t, since) { n, t, since }
#define RULENAME FS("RuleName", FIELD_STRING, V(4, 1))
#define S FIELD_STRING
#define USER480 FS("User", S, V(4, 80))

static const struct schema_field f_error[] = {
	F("UtcTime", S), F("ID", S), F("Description", S),
};
static const struct schema_field f_process_create[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("FileVersion", S), F("Description", S), F("Product", S),
	F("Company", S), FS("OriginalFileName", S, V(4, 21)), F("CommandLine", S),
	F("CurrentDirectory", S), F("User", S), F("LogonGuid", FIELD_GUID),
	F("LogonId", FIELD_HEXINT64), F("TerminalSessionId", FIELD_UINT32),
	F("IntegrityLevel", S), F("Hashes", S), F("ParentProcessGuid", FIELD_GUID),
	F("ParentProcessId", FIELD_PID), F("ParentImage", S), F("ParentCommandLine", S),
	FS("ParentUser", S, V(4, 80)),
};
static const struct schema_field f_file_time[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("TargetFilename", S), F("CreationUtcTime", S),
	F("PreviousCreationUtcTime", S), USER480,
};
static const struct schema_field f_network[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("User", S), F("Protocol", S), F("Initiated", FIELD_BOOLEAN),
	F("SourceIsIpv6", FIELD_BOOLEAN), F("SourceIp", S), F("SourceHostname", S),
	F("SourcePort", FIELD_UINT16), F("SourcePortName", S),
	F("DestinationIsIpv6", FIELD_BOOLEAN), F("DestinationIp", S),
	F("DestinationHostname", S), F("DestinationPort", FIELD_UINT16),
	F("DestinationPortName", S),
};
static const struct schema_field f_service_state[] = {
	F("UtcTime", S), F("State", S), F("Version", S), F("SchemaVersion", S),
};
static const struct schema_field f_process_terminate[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), USER480,
};
static const struct schema_field f_driver_load[] = {
	RULENAME, F("UtcTime", S), F("ImageLoaded", S), F("Hashes", S), F("Signed", S),
	F("Signature", S), F("SignatureStatus", S),
};
static const struct schema_field f_image_load[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("ImageLoaded", S), F("FileVersion", S), F("Description", S),
	F("Product", S), F("Company", S), FS("OriginalFileName", S, V(4, 21)),
	F("Hashes", S), F("Signed", S), F("Signature", S), F("SignatureStatus", S), USER480,
};
static const struct schema_field f_remote_thread[] = {
	RULENAME, F("UtcTime", S), F("SourceProcessGuid", FIELD_GUID),
	F("SourceProcessId", FIELD_PID), F("SourceImage", S),
	F("TargetProcessGuid", FIELD_GUID), F("TargetProcessId", FIELD_PID),
	F("TargetImage", S), F("NewThreadId", FIELD_UINT32), F("StartAddress", S),
	F("StartModule", S), F("StartFunction", S), FS("SourceUser", S, V(4, 80)),
	FS("TargetUser", S, V(4, 80)),
};
static const struct schema_field f_raw_access[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("Device", S), USER480,
};
static const struct schema_field f_process_access[] = {
	RULENAME, F("UtcTime", S), F("SourceProcessGUID", FIELD_GUID),
	F("SourceProcessId", FIELD_PID), F("SourceThreadId", FIELD_UINT32),
	F("SourceImage", S), F("TargetProcessGUID", FIELD_GUID),
	F("TargetProcessId", FIELD_PID), F("TargetImage", S),
	F("GrantedAccess", FIELD_HEXINT32), F("CallTrace", S),
	FS("SourceUser", S, V(4, 80)), FS("TargetUser", S, V(4, 80)),
};
static const struct schema_field f_file_create[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("TargetFilename", S), F("CreationUtcTime", S), USER480,
};
static const struct schema_field f_reg_key[] = {
	RULENAME, F("EventType", S), F("UtcTime", S), F("ProcessGuid", FIELD_GUID),
	F("ProcessId", FIELD_PID), F("Image", S), F("TargetObject", S), USER480,
};
static const struct schema_field f_reg_setvalue[] = {
	RULENAME, F("EventType", S), F("UtcTime", S), F("ProcessGuid", FIELD_GUID),
	F("ProcessId", FIELD_PID), F("Image", S), F("TargetObject", S), F("Details", S),
	USER480,
};
static const struct schema_field f_reg_name[] = {
	RULENAME, F("EventType", S), F("UtcTime", S), F("ProcessGuid", FIELD_GUID),
	F("ProcessId", FIELD_PID), F("Image", S), F("TargetObject", S), F("NewName", S),
	USER480,
};
static const struct schema_field f_stream_hash[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("TargetFilename", S), F("CreationUtcTime", S), F("Hash", S),
	FS("Contents", S, V(4, 31)), USER480,
};
static const struct schema_field f_config_change[] = {
	F("UtcTime", S), F("Configuration", S), F("ConfigurationFileHash", S),
};
static const struct schema_field f_pipe[] = {
	RULENAME, FS("EventType", S, V(4, 21)), F("UtcTime", S), F("ProcessGuid", FIELD_GUID),
	F("ProcessId", FIELD_PID), F("PipeName", S), F("Image", S), USER480,
};
static const struct schema_field f_wmi_filter[] = {
	RULENAME, F("EventType", S), F("UtcTime", S), F("Operation", S), F("User", S),
	F("EventNamespace", S), F("Name", S), F("Query", S),
};
static const struct schema_field f_wmi_consumer[] = {
	RULENAME, F("EventType", S), F("UtcTime", S), F("Operation", S), F("User", S),
	F("Name", S), F("Type", S), F("Destination", S),
};
static const struct schema_field f_wmi_binding[] = {
	RULENAME, F("EventType", S), F("UtcTime", S), F("Operation", S), F("User", S),
	F("Consumer", S), F("Filter", S),
};
static const struct schema_field f_dns_query[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("QueryName", S), F("QueryStatus", S), F("QueryResults", S), F("Image", S), USER480,
};
static const struct schema_field f_file_delete[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	FS("User", S, V(4, 30)), F("Image", S), F("TargetFilename", S), F("Hashes", S),
	FS("IsExecutable", FIELD_BOOLEAN, V(4, 30)), F("Archived", S),
};
static const struct schema_field f_clipboard[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("Session", FIELD_UINT32), F("ClientInfo", S), F("Hashes", S),
	F("Archived", S), USER480,
};
static const struct schema_field f_tampering[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("Image", S), F("Type", S), USER480,
};
static const struct schema_field f_delete_detected[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("User", S), F("Image", S), F("TargetFilename", S), F("Hashes", S),
	F("IsExecutable", FIELD_BOOLEAN),
};
static const struct schema_field f_block_executable[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("User", S), F("Image", S), F("TargetFilename", S), F("Hashes", S),
};
static const struct schema_field f_block_shredding[] = {
	RULENAME, F("UtcTime", S), F("ProcessGuid", FIELD_GUID), F("ProcessId", FIELD_PID),
	F("User", S), F("Image", S), F("TargetFilename", S), F("Hashes", S),
	F("IsExecutable", FIELD_BOOLEAN),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define EV(id, sym, title, tag, ver, lvl, inc, win, since, f) \
	{ id, sym, title, tag, ver, lvl, inc, win, since, N(f), f }

static const struct schema_event events[] = {
	EV(1, "SYSMONEVENT_CREATE_PROCESS", "Process Create", "ProcessCreate", 5, 4, true, false, BASE, f_process_create),
	EV(2, "SYSMONEVENT_FILE_TIME", "File creation time changed", "FileCreateTime", 5, 4, false, false, BASE, f_file_time),
	EV(3, "SYSMONEVENT_NETWORK_CONNECT", "Network connection detected", "NetworkConnect", 5, 4, false, false, BASE, f_network),
	EV(4, "SYSMONEVENT_SERVICE_STATE_CHANGE", "Sysmon service state changed", NULL, 3, 4, true, false, BASE, f_service_state),
	EV(5, "SYSMONEVENT_PROCESS_TERMINATE", "Process terminated", "ProcessTerminate", 3, 4, true, false, BASE, f_process_terminate),
	EV(6, "SYSMONEVENT_DRIVER_LOAD", "Driver loaded", "DriverLoad", 4, 4, false, false, BASE, f_driver_load),
	EV(7, "SYSMONEVENT_IMAGE_LOAD", "Image loaded", "ImageLoad", 3, 4, false, false, BASE, f_image_load),
	EV(8, "SYSMONEVENT_CREATE_REMOTE_THREAD", "CreateRemoteThread detected", "CreateRemoteThread", 2, 4, false, false, BASE, f_remote_thread),
	EV(9, "SYSMONEVENT_RAWACCESS_READ", "RawAccessRead detected", "RawAccessRead", 2, 4, false, false, BASE, f_raw_access),
	EV(10, "SYSMONEVENT_ACCESS_PROCESS", "Process accessed", "ProcessAccess", 3, 4, false, false, BASE, f_process_access),
	EV(11, "SYSMONEVENT_FILE_CREATE", "File created", "FileCreate", 2, 4, false, false, BASE, f_file_create),
	EV(12, "SYSMONEVENT_REG_KEY", "Registry object added or deleted", "RegistryEvent", 2, 4, false, true, BASE, f_reg_key),
	EV(13, "SYSMONEVENT_REG_SETVALUE", "Registry value set", "RegistryEvent", 2, 4, false, true, BASE, f_reg_setvalue),
	EV(14, "SYSMONEVENT_REG_NAME", "Registry object renamed", "RegistryEvent", 2, 4, false, true, BASE, f_reg_name),
	EV(15, "SYSMONEVENT_FILE_CREATE_STREAM_HASH", "File stream created", "FileCreateStreamHash", 2, 4, false, true, BASE, f_stream_hash),
	EV(16, "SYSMONEVENT_SERVICE_CONFIGURATION_CHANGE", "Sysmon config state changed", NULL, 3, 4, true, false, BASE, f_config_change),
	EV(17, "SYSMONEVENT_CREATE_NAMEDPIPE", "Pipe Created", "PipeEvent", 1, 4, false, true, BASE, f_pipe),
	EV(18, "SYSMONEVENT_CONNECT_NAMEDPIPE", "Pipe Connected", "PipeEvent", 1, 4, false, true, BASE, f_pipe),
	EV(19, "SYSMONEVENT_WMI_FILTER", "WmiEventFilter activity detected", "WmiEvent", 3, 4, false, true, BASE, f_wmi_filter),
	EV(20, "SYSMONEVENT_WMI_CONSUMER", "WmiEventConsumer activity detected", "WmiEvent", 3, 4, false, true, BASE, f_wmi_consumer),
	EV(21, "SYSMONEVENT_WMI_BINDING", "WmiEventConsumerToFilter activity detected", "WmiEvent", 3, 4, false, true, BASE, f_wmi_binding),
	EV(22, "SYSMONEVENT_DNS_QUERY", "Dns query", "DnsQuery", 5, 4, false, false, V(4, 21), f_dns_query),
	/* FileDelete and ClipboardChange existed as tags (with internal ids)
	 * from 4.0; they got ids 23 and 24 in 4.30 and 4.40. */
	EV(23, "SYSMONEVENT_FILE_DELETE", "File Delete archived", "FileDelete", 5, 4, false, false, BASE, f_file_delete),
	EV(24, "SYSMONEVENT_CLIPBOARD", "Clipboard changed", "ClipboardChange", 5, 4, false, true, BASE, f_clipboard),
	EV(25, "SYSMONEVENT_PROCESS_IMAGE_TAMPERING", "Process Tampering", "ProcessTampering", 5, 4, false, false, V(4, 50), f_tampering),
	EV(26, "SYSMONEVENT_FILE_DELETE_DETECTED", "File Delete logged", "FileDeleteDetected", 5, 4, false, false, V(4, 60), f_delete_detected),
	EV(27, "SYSMONEVENT_FILE_BLOCK_EXE", "File Block Executable", "FileBlockExecutable", 5, 4, false, true, V(4, 82), f_block_executable),
	EV(28, "SYSMONEVENT_FILE_BLOCK_SHREDDING", "File Block Shredding", "FileBlockShredding", 5, 4, false, true, V(4, 83), f_block_shredding),
	EV(29, "SYSMONEVENT_FILE_EXE_DETECTED", "File Executable Detected", "FileExecutableDetected", 5, 4, false, true, V(4, 90), f_block_executable),
	EV(255, "SYSMONEVENT_ERROR", "Error report", NULL, 3, 2, true, false, BASE, f_error),
};

static const char *const tags[] = {
	"ProcessCreate", "FileCreateTime", "NetworkConnect", "ProcessTerminate",
	"DriverLoad", "ImageLoad", "CreateRemoteThread", "RawAccessRead",
	"ProcessAccess", "FileCreate", "RegistryEvent", "FileCreateStreamHash",
	"PipeEvent", "WmiEvent", "DnsQuery", "FileDelete", "ClipboardChange",
	"ProcessTampering", "FileDeleteDetected", "FileBlockExecutable",
	"FileBlockShredding", "FileExecutableDetected",
};

#define FOREVER 0xffffffffu
static const struct schema_option options[] = {
	/* name, switch, argument, config element, rule, internal, since, until */
	{ "Install", "i", OPTION_ARG_OPTIONAL, false, false, false, BASE, FOREVER },
	{ "Configuration", "c", OPTION_ARG_OPTIONAL, false, false, false, BASE, FOREVER },
	{ "UnInstall", "u", OPTION_ARG_OPTIONAL, false, false, false, BASE, FOREVER },
	{ "Manifest", "m", OPTION_ARG_NONE, false, false, false, BASE, FOREVER },
	{ "ClipboardInstance", "z", OPTION_ARG_REQUIRED, false, false, false, V(4, 40), FOREVER },
	{ "DebugMode", "t", OPTION_ARG_OPTIONAL, false, false, false, BASE, FOREVER },
	{ "BTF", "btf", OPTION_ARG_OPTIONAL, false, false, false, V(4, 81), FOREVER },
	{ "Service", "service", OPTION_ARG_NONE, false, false, false, V(4, 70), FOREVER },
	{ "PrintSchema", "s", OPTION_ARG_OPTIONAL, false, false, false, BASE, FOREVER },
	{ "NoLogo", "nologo", OPTION_ARG_NONE, false, false, false, BASE, FOREVER },
	{ "AcceptEula", "accepteula", OPTION_ARG_NONE, false, false, false, BASE, FOREVER },
	{ "ConfigDefault", "-", OPTION_ARG_NONE, false, false, false, BASE, FOREVER },
	{ "ArchiveDirectory", "a", OPTION_ARG_REQUIRED, true, false, false, BASE, FOREVER },
	{ "CaptureClipboard", NULL, OPTION_ARG_NONE, true, false, false, BASE, FOREVER },
	{ "CopyOnDelete_Processes", "p", OPTION_ARG_REQUIRED, true, false, false, BASE, V(4, 23) },
	{ "CopyOnDelete_PE", "e", OPTION_ARG_NONE, true, false, false, BASE, V(4, 23) },
	{ "CopyOnDelete_SIDs", "f", OPTION_ARG_REQUIRED, true, false, false, BASE, V(4, 23) },
	{ "CopyOnDelete_Extensions", "j", OPTION_ARG_REQUIRED, true, false, false, BASE, V(4, 23) },
	{ "DriverName", "d", OPTION_ARG_REQUIRED, true, false, false, BASE, FOREVER },
	{ "DnsQuery", "dns", OPTION_ARG_OPTIONAL, false, true, false, V(4, 21), FOREVER },
	{ "PipeMonitoring", "g", OPTION_ARG_REQUIRED, true, true, false, BASE, FOREVER },
	{ "HashAlgorithms", "h", OPTION_ARG_REQUIRED, true, false, false, BASE, FOREVER },
	{ "DnsLookup", NULL, OPTION_ARG_REQUIRED, true, false, false, V(4, 30), FOREVER },
	{ "ProcessAccess", "k", OPTION_ARG_REQUIRED, true, true, false, BASE, FOREVER },
	{ "ImageLoad", "l", OPTION_ARG_OPTIONAL, false, true, false, BASE, FOREVER },
	{ "NetworkConnect", "n", OPTION_ARG_OPTIONAL, false, true, false, BASE, FOREVER },
	{ "CheckRevocation", "r", OPTION_ARG_OPTIONAL, true, false, false, BASE, FOREVER },
	{ "ServiceArchiveDirectory", "s", OPTION_ARG_REQUIRED, true, false, true, BASE, FOREVER },
	{ "InternalRepresentation", "x", OPTION_ARG_REQUIRED, true, false, true, V(4, 50), FOREVER },
	{ "OutputRules", "y", OPTION_ARG_REQUIRED, true, false, true, V(4, 50), FOREVER },
	{ "TraceEvents", NULL, OPTION_ARG_REQUIRED, true, false, true, V(4, 50), FOREVER },
	{ "FieldSizes", NULL, OPTION_ARG_REQUIRED, true, false, false, V(4, 81), FOREVER },
};

/* Manifest (display) order of the conditions, and the schema that added each. */
const char *const schema_conditions[SCHEMA_CONDITION_COUNT] = {
	"is", "is not", "contains", "contains any", "is any", "contains all",
	"excludes", "excludes any", "excludes all", "begin with", "not begin with",
	"end with", "not end with", "less than", "more than", "image",
};
static const unsigned condition_since[SCHEMA_CONDITION_COUNT] = {
	BASE, BASE, BASE, V(4, 22), V(4, 31), V(4, 22), BASE, V(4, 23), V(4, 23),
	BASE, V(4, 70), BASE, V(4, 70), BASE, BASE, BASE,
};

/* Every schema version that had a manifest, newest first, with Sysmon's
 * binary version for it (4.82+ are Windows releases). */
static const struct {
	unsigned version;
	const char *binary;
} manifests[] = {
	{ V(4, 90), "18" }, { V(4, 83), "17.1" }, { V(4, 82), "17" },
	{ V(4, 81), "16" }, { V(4, 80), "16" }, { V(4, 70), "15.0" }, { V(4, 60), "14.0" },
	{ V(4, 50), "13.0" }, { V(4, 40), "11.0" }, { V(4, 32), "9.20" }, { V(4, 31), "9.20" },
	{ V(4, 30), "9.20" }, { V(4, 23), "9.20" }, { V(4, 22), "9.20" }, { V(4, 21), "9.10" },
	{ V(4, 20), "8.00" }, { V(4, 10), "8.00" }, { V(4, 0), "1.01" },
};

size_t schema_event_count(void) { return N(events); }

const struct schema_event *schema_event_at(size_t index)
{
	return index < N(events) ? &events[index] : NULL;
}

const struct schema_event *schema_event_by_id(unsigned id)
{
	if (id >= 1 && id <= 29)
		return &events[id - 1];
	if (id == EVENT_ID_ERROR)
		return &events[N(events) - 1];
	return NULL;
}

size_t schema_tag_count(void) { return N(tags); }

const char *schema_tag_at(size_t index)
{
	return index < N(tags) ? tags[index] : NULL;
}

size_t schema_tag_events(const char *tag, const struct schema_event **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < N(events); i++) {
		if (events[i].rule_tag && strcmp(events[i].rule_tag, tag) == 0) {
			if (n < max)
				out[n] = &events[i];
			n++;
		}
	}
	return n;
}

int schema_field_index(const struct schema_event *event, const char *name)
{
	for (unsigned i = 0; i < event->nfields; i++)
		if (strcmp(event->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool schema_event_in_version(const struct schema_event *event, unsigned version)
{
	return version >= event->since;
}

bool schema_field_in_version(const struct schema_event *event, int index, unsigned version)
{
	return index >= 0 && (unsigned)index < event->nfields &&
	       version >= event->fields[index].since;
}

bool schema_is_field_name(const char *name)
{
	for (size_t i = 0; i < N(events); i++)
		if (schema_field_index(&events[i], name) >= 0)
			return true;
	return false;
}

size_t schema_option_count(void) { return N(options); }

const struct schema_option *schema_option_at(size_t index)
{
	return index < N(options) ? &options[index] : NULL;
}

const struct schema_option *schema_option_by_element(const char *element, unsigned version)
{
	for (size_t i = 0; i < N(options); i++) {
		const struct schema_option *o = &options[i];
		size_t len = strlen(o->name);

		if (!o->config_element || version < o->since || version > o->until)
			continue;
		if (strncmp(element, o->name, len) != 0)
			continue;
		if (o->rule ? strcmp(element + len, "Config") == 0 : element[len] == '\0')
			return o;
	}
	return NULL;
}

int schema_parse_version(const char *text, unsigned *version)
{
	char *end;
	double value;
	long hundredths;

	if (!text)
		return -1;
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '\0' || !(*text == '.' || (*text >= '0' && *text <= '9')))
		return -1;
	errno = 0;
	value = strtod(text, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end != '\0' || !isfinite(value) || value < 0 || value >= 65536)
		return -1;
	/* Sysmon prints the number with two decimals and splits at the dot. */
	hundredths = lround(value * 100.0);
	if (hundredths / 100 == 0)
		return -1;
	*version = SCHEMA_VERSION(hundredths / 100, hundredths % 100);
	return 0;
}

const char *schema_version_text(unsigned version, char *buf)
{
	snprintf(buf, 16, "%u.%02u", SCHEMA_MAJOR(version), SCHEMA_MINOR(version));
	return buf;
}

bool schema_version_supported(unsigned version)
{
	return version >= SCHEMA_OLDEST && version <= SCHEMA_NEWEST;
}

static const char *type_attributes(enum field_type type)
{
	switch (type) {
	case FIELD_GUID: return "inType=\"win:GUID\"";
	case FIELD_UINT16: return "inType=\"win:UInt16\"";
	case FIELD_UINT32: return "inType=\"win:UInt32\"";
	case FIELD_PID: return "inType=\"win:UInt32\" outType=\"win:PID\"";
	case FIELD_HEXINT32: return "inType=\"win:HexInt32\"";
	case FIELD_HEXINT64: return "inType=\"win:HexInt64\"";
	case FIELD_BOOLEAN: return "inType=\"win:Boolean\"";
	case FIELD_STRING: break;
	}
	return "inType=\"win:UnicodeString\" outType=\"xs:string\"";
}

static const char *argument_text(enum option_argument a)
{
	return a == OPTION_ARG_NONE ? "none" : a == OPTION_ARG_OPTIONAL ? "optional" : "required";
}

static void print_event(FILE *out, const struct schema_event *e, unsigned version)
{
	fprintf(out, "      <event name=\"%s\" value=\"%u\" level=\"%s\" template=\"%s\"",
		e->symbol, e->id, e->level == 2 ? "Error" : "Informational", e->title);
	if (e->rule_tag)
		fprintf(out, " rulename=\"%s\"", e->rule_tag);
	if (e->rule_tag && e->default_include)
		fprintf(out, " ruledefault=\"include\"");
	else if (e->rule_tag && e->id >= 11 && e->id <= 22)
		fprintf(out, " ruledefault=\"exclude\"");   /* spelled out in the manifest */
	fprintf(out, " version=\"%u\" target=\"all\">\n", e->version);
	for (unsigned i = 0; i < e->nfields; i++)
		if (version >= e->fields[i].since)
			fprintf(out, "        <data name=\"%s\" %s />\n", e->fields[i].name,
				type_attributes(e->fields[i].type));
	fprintf(out, "      </event>\n");
}

static void print_manifest(FILE *out, unsigned version, const char *binary)
{
	char text[16];
	const char *sep = "";

	fprintf(out, "  <manifest schemaversion=\"%s\" binaryversion=\"%s\">\n",
		schema_version_text(version, text), binary);
	fprintf(out, "    <configuration>\n      <options>\n");
	for (size_t i = 0; i < N(options); i++) {
		const struct schema_option *o = &options[i];

		if (version < o->since || version > o->until)
			continue;
		fprintf(out, "        <option");
		if (o->cli_switch)
			fprintf(out, " switch=\"%s\"", o->cli_switch);
		fprintf(out, " name=\"%s\" argument=\"%s\" target=\"%s\"", o->name,
			argument_text(o->argument), o->internal ? "internal" : "all");
		if (!o->config_element && !o->rule)
			fprintf(out, " noconfig=\"true\"");
		if (o->rule)
			fprintf(out, " rule=\"true\"%s", o->config_element ? " forceconfig=\"true\"" : "");
		fprintf(out, " />\n");
	}
	fprintf(out, "      </options>\n      <filters default=\"is\">");
	for (unsigned c = 0; c < SCHEMA_CONDITION_COUNT; c++) {
		if (version >= condition_since[c]) {
			fprintf(out, "%s%s", sep, schema_conditions[c]);
			sep = ",";
		}
	}
	fprintf(out, "</filters>\n    </configuration>\n    <events>\n");
	print_event(out, schema_event_by_id(EVENT_ID_ERROR), version);
	for (size_t i = 0; i + 1 < N(events); i++)
		if (schema_event_in_version(&events[i], version))
			print_event(out, &events[i], version);
	fprintf(out, "    </events>\n  </manifest>\n");
}

int schema_print(FILE *out, const char *version_prefix)
{
	bool all = version_prefix && strcasecmp(version_prefix, "all") == 0;
	size_t first = 0;

	if (version_prefix && !all) {
		/* Sysmon picks the first (newest) manifest whose version text
		 * starts with the argument: "-s 4.2" prints 4.23. */
		char text[16];

		for (first = 0; first < N(manifests); first++)
			if (strncmp(schema_version_text(manifests[first].version, text),
				    version_prefix, strlen(version_prefix)) == 0)
				break;
		if (first == N(manifests))
			return -1;
	}
	fprintf(out, "<manifests>\n");
	for (size_t i = first; i < N(manifests); i++) {
		print_manifest(out, manifests[i].version, manifests[i].binary);
		if (!all)
			break;
	}
	fprintf(out, "</manifests>\n");
	return 0;
}
