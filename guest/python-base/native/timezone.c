/*
 * timezone.c: local time for a guest whose C library knows only UTC.
 *
 * wasi-libc has no time-zone support: its localtime, mktime and strftime("%Z") ask two internal
 * functions, __secs_to_zone and __tm_to_tzname, which always answer UTC, and it has no tzset.
 * This file defines those functions (so wasi-libc's UTC-only object is never linked) and tzset
 * after the TZ environment variable, as a Linux C library does:
 *
 *   - unset or empty: UTC;
 *   - a zone name (`Europe/Paris`, optionally `:Europe/Paris`) or an absolute path: a TZif file
 *     (RFC 8536) from the IANA database in the stdlib tree (ZONEINFO_DIR), the one `zoneinfo`
 *     reads, with the POSIX rule at its end for times after its last transition;
 *   - otherwise a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+03>-3`, `EST5EDT`);
 *   - anything else falls back to UTC as glibc does: named after its leading letters when there
 *     are at least three (`Nowhere/Special` is UTC called "Nowhere"), else unnamed.
 *
 * The zone follows TZ at every conversion, not only at tzset() (as musl does), and time.tzset()
 * (which CPython leaves out on WASI) re-reads it and recomputes time.timezone, altzone, daylight
 * and tzname with CPython's own code for platforms without a tzname variable.
 *
 * Zone abbreviations are kept for the life of the instance (they are few): struct tm values
 * hold pointers to them, and must not dangle after a later tzset().
 */

#include <Python.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timezone.h"

#ifndef ZONEINFO_DIR
#error "build with -DZONEINFO_DIR=\"...\" (the stdlib tree's IANA time-zone directory)"
#endif

/* The C library's own name for UTC (gmtime's tm_zone); wasi-libc expects it from here. */
const char __utc[] = "UTC";

void tzset(void);

/* ---- names ------------------------------------------------------------------------------------ */

#define MAX_ABBREVIATION 16 /* RFC 8536 asks for 3 to 6 characters; POSIX allows TZNAME_MAX */

typedef struct Name {
    struct Name *next;
    char text[];
} Name;

static Name *names;

/* A lasting copy of `text` (length `len`), shared by every zone that uses the same name. */
static const char *intern(const char *text, size_t len) {
    if (len > MAX_ABBREVIATION) len = MAX_ABBREVIATION;
    for (Name *name = names; name != NULL; name = name->next)
        if (strncmp(name->text, text, len) == 0 && name->text[len] == '\0') return name->text;
    Name *name = malloc(sizeof(Name) + len + 1);
    if (name == NULL) return __utc;
    memcpy(name->text, text, len);
    name->text[len] = '\0';
    name->next = names;
    names = name;
    return name->text;
}

/* ---- calendar ------------------------------------------------------------------------------- */

#define SECONDS_PER_DAY 86400

static bool is_leap(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

static int days_in_month(int64_t year, int month) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar: counted in 400-year
 * eras that start on March 1st, so the leap day is the last day of an era's year. */
static int64_t days_from_civil(int64_t year, int month, int day) {
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The year that the UTC day `days` (since 1970-01-01) falls in. */
static int64_t year_of_day(int64_t days) {
    int64_t year = 1970 + days / 366;
    while (days_from_civil(year + 1, 1, 1) <= days) year++;
    while (days_from_civil(year, 1, 1) > days) year--;
    return year;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* ---- POSIX TZ strings (also the footer of a TZif file) -------------------------------------- */

typedef enum { JULIAN_NO_LEAP, ZERO_BASED, MONTH_WEEK_DAY } DateKind;

typedef struct {
    DateKind kind;
    int day;   /* Jn: 1-365; n: 0-365; Mm.w.d: d, 0 (Sunday) to 6 */
    int week;  /* Mm.w.d: 1-5, 5 being the last */
    int month; /* Mm.w.d: 1-12 */
    int32_t time; /* seconds after local midnight, -167 h to 167 h (RFC 8536) */
} RuleDate;

typedef struct {
    const char *std_name, *dst_name; /* dst_name is NULL without daylight saving time */
    int32_t std_offset, dst_offset;  /* seconds east of UTC */
    RuleDate start, end;             /* when daylight saving time starts and ends, local time */
} Rule;

/* A zone name: `<...>` of letters, digits, '+' and '-', or at least three letters. */
static const char *parse_name(const char *p, const char **name) {
    const char *start = p;
    size_t len = 0;
    if (*p == '<') {
        start = ++p;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
               *p == '-')
            p++;
        if (*p != '>' || p - start < 3) return NULL;
        len = (size_t)(p - start);
        p++;
    } else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
        if (p - start < 3) return NULL;
        len = (size_t)(p - start);
    }
    *name = intern(start, len);
    return p;
}

static const char *parse_number(const char *p, int *value, int max) {
    if (*p < '0' || *p > '9') return NULL;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
        n = n * 10 + (*p++ - '0');
        if (n > max) return NULL;
    }
    *value = n;
    return p;
}

/* [+-]hh[:mm[:ss]] in seconds; hours up to `max_hours`. */
static const char *parse_time(const char *p, int32_t *seconds, int max_hours) {
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    int hours = 0, minutes = 0, secs = 0;
    if ((p = parse_number(p, &hours, max_hours)) == NULL) return NULL;
    if (*p == ':') {
        if ((p = parse_number(p + 1, &minutes, 59)) == NULL) return NULL;
        if (*p == ':' && (p = parse_number(p + 1, &secs, 59)) == NULL) return NULL;
    }
    *seconds = sign * (hours * 3600 + minutes * 60 + secs);
    return p;
}

static const char *parse_rule_date(const char *p, RuleDate *date) {
    if (*p == 'M') {
        date->kind = MONTH_WEEK_DAY;
        if ((p = parse_number(p + 1, &date->month, 12)) == NULL || date->month < 1 || *p != '.') return NULL;
        if ((p = parse_number(p + 1, &date->week, 5)) == NULL || date->week < 1 || *p != '.') return NULL;
        if ((p = parse_number(p + 1, &date->day, 6)) == NULL) return NULL;
    } else if (*p == 'J') {
        date->kind = JULIAN_NO_LEAP;
        if ((p = parse_number(p + 1, &date->day, 365)) == NULL || date->day < 1) return NULL;
    } else {
        date->kind = ZERO_BASED;
        if ((p = parse_number(p, &date->day, 365)) == NULL) return NULL;
    }
    date->time = 2 * 3600;
    if (*p == '/' && (p = parse_time(p + 1, &date->time, 167)) == NULL) return NULL;
    return p;
}

typedef enum { PARSED, NAME_ONLY, UNPARSED } ParseResult;

/* A whole POSIX TZ string. NAME_ONLY: a standard-time name and nothing usable after it. */
static ParseResult parse_posix(const char *p, Rule *rule) {
    memset(rule, 0, sizeof *rule);
    if ((p = parse_name(p, &rule->std_name)) == NULL) return UNPARSED;
    int32_t std_west;
    const char *after_offset = parse_time(p, &std_west, 24);
    if (after_offset == NULL) return NAME_ONLY;
    p = after_offset;
    rule->std_offset = -std_west;
    rule->dst_offset = rule->std_offset;
    if (*p == '\0') return PARSED;
    if ((p = parse_name(p, &rule->dst_name)) == NULL) return NAME_ONLY;
    rule->dst_offset = rule->std_offset + 3600;
    if (*p != ',' && *p != '\0') {
        int32_t dst_west;
        if ((p = parse_time(p, &dst_west, 24)) == NULL) return NAME_ONLY;
        rule->dst_offset = -dst_west;
    }
    if (*p == '\0') {
        /* No rule: the United States' since 2007, as glibc (posixrules) and musl assume. */
        rule->start = (RuleDate){.kind = MONTH_WEEK_DAY, .month = 3, .week = 2, .day = 0, .time = 7200};
        rule->end = (RuleDate){.kind = MONTH_WEEK_DAY, .month = 11, .week = 1, .day = 0, .time = 7200};
        return PARSED;
    }
    if (*p != ',' || (p = parse_rule_date(p + 1, &rule->start)) == NULL) return NAME_ONLY;
    if (*p != ',' || (p = parse_rule_date(p + 1, &rule->end)) == NULL) return NAME_ONLY;
    return *p == '\0' ? PARSED : NAME_ONLY;
}

/* Local midnight of `date` in `year`, as seconds since the epoch of that local calendar. */
static int64_t rule_day_start(const RuleDate *date, int64_t year) {
    int64_t first = days_from_civil(year, 1, 1);
    int64_t day;
    switch (date->kind) {
    case JULIAN_NO_LEAP: /* February 29th is never counted */
        day = first + date->day - 1 + (is_leap(year) && date->day >= 60);
        break;
    case ZERO_BASED:
        day = first + date->day;
        break;
    default: {
        int64_t month_start = days_from_civil(year, date->month, 1);
        int weekday = (int)((month_start % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        int mday = 1 + (date->day - weekday + 7) % 7 + (date->week - 1) * 7;
        while (mday > days_in_month(year, date->month)) mday -= 7;
        day = month_start + mday - 1;
    }
    }
    return day * SECONDS_PER_DAY;
}

/* Whether `t` (UTC) is in daylight saving time under `rule`. */
static bool rule_is_dst(const Rule *rule, int64_t t) {
    if (rule->dst_name == NULL) return false;
    int64_t year = year_of_day(floor_div(t + rule->std_offset, SECONDS_PER_DAY));
    /* The year's transitions, and the neighbouring years' for a rule whose DST crosses New Year. */
    for (int64_t y = year - 1; y <= year + 1; y++) {
        int64_t start = rule_day_start(&rule->start, y) + rule->start.time - rule->std_offset;
        int64_t end = rule_day_start(&rule->end, y) + rule->end.time - rule->dst_offset;
        if (start < end) {
            if (t >= start && t < end) return true;
        } else if (y == year && (t >= start || t < end)) {
            return true;
        }
    }
    return false;
}

/* ---- TZif files (RFC 8536) --------------------------------------------------------------------- */

typedef struct {
    int32_t offset; /* seconds east of UTC */
    bool is_dst;
    const char *name;
} LocalTimeType;

#define MAX_TZIF_BYTES (512 * 1024)
#define MAX_TYPES 256

typedef struct {
    char tz[256]; /* the TZ value this zone was made from; "" for UTC */
    int transition_count;
    int64_t *transitions;  /* UTC, ascending */
    uint8_t *transition_types;
    int type_count;        /* 0: the zone is `rule` alone */
    LocalTimeType types[MAX_TYPES];
    bool has_rule;
    Rule rule;
} Zone;

static Zone zone = {.has_rule = true, .rule = {.std_name = __utc}};

static uint32_t read_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t read_be64(const unsigned char *p) { return (int64_t)((uint64_t)read_be32(p) << 32 | read_be32(p + 4)); }

static unsigned char *read_file(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    unsigned char *data = malloc(MAX_TZIF_BYTES);
    size_t used = 0;
    while (data != NULL && used < MAX_TZIF_BYTES) {
        ssize_t n = read(fd, data + used, MAX_TZIF_BYTES - used);
        if (n <= 0) break;
        used += (size_t)n;
    }
    close(fd);
    *size = used;
    return data;
}

/* Fills `out` from a TZif file's bytes; false when they are not one. */
static bool parse_tzif(const unsigned char *data, size_t size, Zone *out) {
    const size_t header_size = 44;
    if (size < header_size || memcmp(data, "TZif", 4) != 0) return false;
    int version = data[4];
    size_t time_size = 4;
    const unsigned char *block = data;
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t)(block - data) + header_size > size || memcmp(block, "TZif", 4) != 0) return false;
        uint32_t isut = read_be32(block + 20), isstd = read_be32(block + 24), leaps = read_be32(block + 28);
        uint32_t times = read_be32(block + 32), types = read_be32(block + 36), chars = read_be32(block + 40);
        if (types == 0 || types > MAX_TYPES || chars == 0 || times > 1000000) return false;
        size_t body = times * time_size + times + types * 6 + chars + leaps * (time_size + 4) + isstd + isut;
        const unsigned char *p = block + header_size;
        if ((size_t)(p - data) + body > size) return false;
        if (pass == 0 && version >= '2') { /* skip the 32-bit block: the 64-bit one follows */
            block = p + body;
            time_size = 8;
            continue;
        }
        out->transition_count = (int)times;
        out->transitions = malloc((times ? times : 1) * sizeof(int64_t));
        out->transition_types = malloc(times ? times : 1);
        if (out->transitions == NULL || out->transition_types == NULL) return false;
        for (uint32_t i = 0; i < times; i++)
            out->transitions[i] = time_size == 8 ? read_be64(p + i * 8) : (int32_t)read_be32(p + i * 4);
        p += times * time_size;
        for (uint32_t i = 0; i < times; i++) {
            if (p[i] >= types) return false;
            out->transition_types[i] = p[i];
        }
        p += times;
        const unsigned char *abbreviations = p + types * 6;
        for (uint32_t i = 0; i < types; i++, p += 6) {
            uint32_t at = p[5];
            if (at >= chars) return false;
            const char *text = (const char *)abbreviations + at;
            out->types[i] = (LocalTimeType){
                .offset = (int32_t)read_be32(p), .is_dst = p[4] != 0, .name = intern(text, strnlen(text, chars - at))};
        }
        out->type_count = (int)types;
        p = block + header_size + body;
        /* The footer: a POSIX TZ string between newlines, for times after the last transition. */
        out->has_rule = false;
        if (time_size == 8 && (size_t)(p - data) < size && *p == '\n') {
            const unsigned char *end = memchr(p + 1, '\n', size - (size_t)(p - data) - 1);
            char footer[256];
            size_t len = end ? (size_t)(end - p - 1) : 0;
            if (len > 0 && len < sizeof footer) {
                memcpy(footer, p + 1, len);
                footer[len] = '\0';
                out->has_rule = parse_posix(footer, &out->rule) == PARSED;
            }
        }
        return true;
    }
    return false;
}

/* ---- the current zone --------------------------------------------------------------------------- */

static void clear_zone(Zone *z) {
    free(z->transitions);
    free(z->transition_types);
    z->transitions = NULL;
    z->transition_types = NULL;
    z->transition_count = 0;
    z->type_count = 0;
    z->has_rule = false;
}

static bool load_file_zone(const char *name, Zone *out) {
    char path[512];
    int written = name[0] == '/' ? snprintf(path, sizeof path, "%s", name)
                                 : snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, name);
    if (written < 0 || (size_t)written >= sizeof path) return false;
    size_t size = 0;
    unsigned char *data = read_file(path, &size);
    if (data == NULL) return false;
    bool ok = parse_tzif(data, size, out);
    free(data);
    if (!ok) clear_zone(out);
    return ok;
}

/* Makes `zone` follow TZ; cheap when TZ has not changed since the last call. */
static void follow_tz(bool reload) {
    const char *tz = getenv("TZ");
    if (tz == NULL) tz = "";
    if (*tz == ':') tz++;
    if (!reload && strncmp(zone.tz, tz, sizeof zone.tz) == 0) return;
    clear_zone(&zone);
    snprintf(zone.tz, sizeof zone.tz, "%s", tz);
    zone.has_rule = true;
    if (*tz == '\0') {
        zone.rule = (Rule){.std_name = __utc};
        return;
    }
    if (load_file_zone(tz, &zone)) return;
    switch (parse_posix(tz, &zone.rule)) {
    case PARSED:
        return;
    case NAME_ONLY: /* UTC under the name given, as glibc does */
        zone.rule = (Rule){.std_name = zone.rule.std_name};
        return;
    default:
        zone.rule = (Rule){.std_name = intern("", 0)};
    }
}

void tzset(void) { follow_tz(true); }

/* Whether the footer's rule, not the table of transitions, decides the local time at `t`. */
static bool rule_decides(int64_t t) {
    if (zone.type_count == 0) return true;
    if (!zone.has_rule) return false;
    return zone.transition_count == 0 || t >= zone.transitions[zone.transition_count - 1];
}

/* The index of the last transition at or before `t`, or -1. */
static int transition_before(int64_t t) {
    int low = 0, high = zone.transition_count - 1;
    if (high < 0 || t < zone.transitions[0]) return -1;
    while (low < high) {
        int mid = low + (high - low + 1) / 2;
        if (zone.transitions[mid] <= t) low = mid;
        else high = mid - 1;
    }
    return low;
}

/* The local time type in effect at `t` (UTC). */
static LocalTimeType type_at(int64_t t) {
    if (rule_decides(t)) {
        bool dst = rule_is_dst(&zone.rule, t);
        return (LocalTimeType){.offset = dst ? zone.rule.dst_offset : zone.rule.std_offset,
                               .is_dst = dst,
                               .name = dst ? zone.rule.dst_name : zone.rule.std_name};
    }
    int index = transition_before(t);
    return zone.types[index < 0 ? 0 : zone.transition_types[index]]; /* type 0 before the first (RFC 8536) */
}

/* The offset of the opposite kind (standard or daylight saving time) near `t`, for mktime when
 * the tm_isdst it is given disagrees with the zone: the nearest transition to the other kind. */
static int32_t opposite_offset(int64_t t, LocalTimeType now) {
    if (rule_decides(t) && zone.rule.dst_name != NULL) return now.is_dst ? zone.rule.std_offset : zone.rule.dst_offset;
    int index = transition_before(t);
    for (int i = index; i >= 0; i--) {
        LocalTimeType type = zone.types[zone.transition_types[i]];
        if (type.is_dst != now.is_dst) return type.offset;
    }
    for (int i = index + 1; i < zone.transition_count; i++) {
        LocalTimeType type = zone.types[zone.transition_types[i]];
        if (type.is_dst != now.is_dst) return type.offset;
    }
    return now.offset;
}

/* wasi-libc's internal contract (musl's): the zone at `t`, which is UTC, or with `local` set a
 * local wall-clock time read as if it were UTC (mktime, which subtracts the offset returned).
 * A local time that happens twice (when clocks go back) is taken as the first; one that never
 * happens (when they go forward) gets the offset from before the change, so mktime lands after
 * it and normalises the time forward (02:30 becomes 03:30), as glibc does. */
void __secs_to_zone(long long t, int local, int *is_dst, int *offset, long *opposite, const char **name) {
    follow_tz(false);
    LocalTimeType type = type_at(t);
    int64_t utc = t;
    if (local) {
        LocalTimeType before = type_at(t - SECONDS_PER_DAY), after = type_at(t + SECONDS_PER_DAY);
        LocalTimeType at_before = type_at(t - before.offset), at_after = type_at(t - after.offset);
        if (at_before.offset == before.offset) type = at_before;
        else if (at_after.offset == after.offset) type = at_after;
        else type = before;
        utc = t - type.offset;
    }
    *is_dst = type.is_dst;
    *offset = type.offset;
    *name = type.name;
    if (opposite != NULL) *opposite = opposite_offset(utc, type);
}

/* The current zone's name for standard (false) or daylight saving time (true). */
static const char *zone_name(bool dst) {
    if (zone.has_rule && (zone.type_count == 0 || zone.transition_count == 0 || zone.rule.dst_name != NULL))
        return dst && zone.rule.dst_name != NULL ? zone.rule.dst_name : zone.rule.std_name;
    for (int i = zone.transition_count - 1; i >= 0; i--) { /* the latest type of that kind */
        LocalTimeType type = zone.types[zone.transition_types[i]];
        if (type.is_dst == dst) return type.name;
    }
    return zone.types[0].name;
}

/* strftime's %Z: the tm's own zone name when it has one, as glibc does (CPython fills it from a
 * struct_time), else the current zone's name for its tm_isdst. */
const char *__tm_to_tzname(const struct tm *tm) {
    if (tm->__tm_zone != NULL) return tm->__tm_zone;
    if (tm->tm_isdst < 0) return "";
    follow_tz(false);
    return zone_name(tm->tm_isdst > 0);
}

/* ---- time.tzset ---------------------------------------------------------------------------------- */

/* Re-reads TZ, then sets timezone, altzone, daylight and tzname as a fresh import of `time` does:
 * CPython computes them from localtime() in January and July on platforms without the C
 * library's tzname variable, and that code runs here on a new instance of the module. */
static PyObject *time_tzset(PyObject *module, PyObject *unused) {
    (void)unused;
    tzset();
    PyModuleDef *def = PyModule_GetDef(module);
    PyObject *spec = def ? PyObject_GetAttrString(module, "__spec__") : NULL;
    PyObject *fresh = spec ? PyModule_FromDefAndSpec(def, spec) : NULL;
    Py_XDECREF(spec);
    if (fresh == NULL || PyModule_ExecDef(fresh, def) < 0) {
        Py_XDECREF(fresh);
        return NULL;
    }
    static const char *const attributes[] = {"timezone", "altzone", "daylight", "tzname"};
    for (size_t i = 0; i < sizeof attributes / sizeof *attributes; i++) {
        PyObject *value = PyObject_GetAttrString(fresh, attributes[i]);
        if (value == NULL || PyObject_SetAttrString(module, attributes[i], value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(fresh);
            return NULL;
        }
        Py_DECREF(value);
    }
    Py_DECREF(fresh);
    Py_RETURN_NONE;
}

static PyMethodDef tzset_methods[] = {
    {"tzset", time_tzset, METH_NOARGS,
     "tzset()\n\nInitialize, or reinitialize, the local timezone to the value stored in\n"
     "os.environ['TZ']: a zone of the IANA database ('Europe/Paris') or a POSIX TZ string\n"
     "('CET-1CEST,M3.5.0,M10.5.0/3'); UTC when TZ is unset or empty. Unknown zones fall back to UTC."},
    {NULL, NULL, 0, NULL},
};

int timezone_install(void) {
    PyObject *time_module = PyImport_ImportModule("time");
    if (time_module == NULL) return -1;
    int status = PyModule_AddFunctions(time_module, tzset_methods);
    Py_DECREF(time_module);
    return status;
}
