/* The checks of the digit kinds on whole Arrow string columns, in one pass each.
 *
 * These are the same rules as the kinds' Python and Polars code (resident_id.py, mobile.py,
 * bank_card.py), for values already in canonical form; anything else is left to those.
 * Each function walks an Arrow string or large_string array given by its buffers and returns
 * one code byte per value:
 *   0        valid
 *   1..k     the first failing check, numbered as in the kind's FAST_REASONS tuple
 *   k+1..    valid, with a plausibility flag numbered as in the kind's FLAGS tuple after those
 *   NOT_KIND not of the kind's shape at all (normalising fails): 'bad_format'
 *   FINISH   passed the checks here; the kind's last check (a regex) is left to Polars
 *   EMPTY    null or the empty string
 *   SLOW     not in canonical form: normalise and validate it in Polars
 * Kinds whose normal form differs from the raw value (landline) also return the normalised
 * values as the buffers of an Arrow large_string array.
 * A test (tests/test_pii_fast.py) checks every code against the scalar rules.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "../_column.h"

#define NOT_KIND 252
#define FINISH 253
#define EMPTY 254
#define SLOW 255

static int number(const unsigned char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

typedef unsigned char (*check_fn)(const unsigned char *s, Py_ssize_t n, const void *ctx);

/* Run ``check`` over every value of the column in args[0..5]; the codes as bytes. */
static PyObject *run(PyObject *const *args, check_fn check, const void *ctx) {
    Column c;
    if (column_parse(args, &c) < 0) return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, c.length);
    if (out == NULL) {
        column_release(&c);
        return NULL;
    }
    unsigned char *codes = (unsigned char *)PyBytes_AS_STRING(out);
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < c.length; i++) {
        const unsigned char *s;
        Py_ssize_t n;
        if (!column_value(&c, i, &s, &n)) {
            ok = 0;
            break;
        }
        codes[i] = (s == NULL || n == 0) ? EMPTY : check(s, n, ctx);
    }
    Py_END_ALLOW_THREADS
    column_release(&c);
    if (!ok) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_ValueError, "an offset points outside the data buffer");
        return NULL;
    }
    return out;
}

/* A reference table passed as a buffer of exactly ``size`` bytes (an error otherwise). */
static int get_table(PyObject *obj, Py_buffer *buf, Py_ssize_t size, const char *name) {
    if (PyObject_GetBuffer(obj, buf, PyBUF_SIMPLE) < 0) return -1;
    if (buf->len != size) {
        PyBuffer_Release(buf);
        PyErr_Format(PyExc_ValueError, "%s must hold %zd bytes", name, size);
        return -1;
    }
    return 0;
}

/* --- normalising kinds -------------------------------------------------------------- */

/* Normalise one raw value into out: its length; 0 when it is not of an easy shape (left to
 * Polars); -1 when it is certainly not of the kind. */
typedef Py_ssize_t (*norm_fn)(const unsigned char *s, Py_ssize_t n, unsigned char *out,
                              const void *ctx);
/* The code of one normalised value. */
typedef unsigned char (*code_fn)(const unsigned char *v, Py_ssize_t n, const void *ctx);

#define NORM_MAX 64   /* raw values longer than this are left to Polars */
#define NORM_GROWTH 3 /* a normalised value is at most this much longer (15 -> 18 digit IDs) */

/* Codes and normalised values (an Arrow large_string's offsets and data) of every value. */
static PyObject *run_norm(PyObject *const *args, norm_fn norm, code_fn code, const void *ctx) {
    Column c;
    if (column_parse(args, &c) < 0) return NULL;
    PyObject *codes_obj = PyBytes_FromStringAndSize(NULL, c.length);
    PyObject *offsets_obj = PyBytes_FromStringAndSize(NULL, (c.length + 1) * 8);
    PyObject *data_obj = PyBytes_FromStringAndSize(NULL, c.data.len + NORM_GROWTH * c.length + 1);
    int ok = codes_obj && offsets_obj && data_obj;
    if (ok) {
        unsigned char *codes = (unsigned char *)PyBytes_AS_STRING(codes_obj);
        int64_t *offsets = (int64_t *)PyBytes_AS_STRING(offsets_obj);
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(data_obj);
        int64_t at = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < c.length; i++) {
            const unsigned char *s;
            Py_ssize_t n;
            offsets[i] = at;
            if (!column_value(&c, i, &s, &n)) {
                ok = 0;
                break;
            }
            if (s == NULL || n == 0) {
                codes[i] = EMPTY;
                continue;
            }
            Py_ssize_t m = n <= NORM_MAX ? norm(s, n, out + at, ctx) : 0;
            if (m <= 0) {
                codes[i] = m < 0 ? NOT_KIND : SLOW;
                continue;
            }
            codes[i] = code(out + at, m, ctx);
            at += m;
        }
        offsets[c.length] = at;
        Py_END_ALLOW_THREADS
        if (!ok) PyErr_SetString(PyExc_ValueError, "an offset points outside the data buffer");
    }
    column_release(&c);
    if (!ok) {
        Py_XDECREF(codes_obj);
        Py_XDECREF(offsets_obj);
        Py_XDECREF(data_obj);
        return NULL;
    }
    return Py_BuildValue("(NNN)", codes_obj, offsets_obj, data_obj);
}

/* run_norm for a kind whose checks need one byte table, passed as the seventh argument:
 * the code function gets a pointer to the table's first byte as its context. */
static PyObject *run_with_table(PyObject *const *args, Py_ssize_t nargs, const char *kind,
                                const char *table_name, Py_ssize_t size, norm_fn norm,
                                code_fn code) {
    if (nargs != 7) {
        PyErr_Format(PyExc_TypeError,
                     "%s(offsets, data, validity, offset, length, wide, %s)", kind, table_name);
        return NULL;
    }
    Py_buffer table;
    if (get_table(args[6], &table, size, table_name) < 0) return NULL;
    PyObject *out = run_norm(args, norm, code, table.buf);
    PyBuffer_Release(&table);
    return out;
}

static int blank(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* The kinds' CharMap for ASCII text, after stripping blanks at both ends as Polars does:
 * characters in ``drop`` removed, those in ``star`` made '*', 'x' made 'X' when ``upper_x``.
 * Returns the length written to buf (at most NORM_MAX), or -2 for non-ASCII input (full-width
 * digits and other masks are left to Polars). ``*fail`` is what a value of the wrong shape
 * gives: -1 (certainly not of the kind), or 0 when blanks were stripped (Polars then reports
 * the stripped value). */
typedef struct {
    unsigned char to[128]; /* what each ASCII character becomes; 0: dropped */
} CharMap;

static CharMap char_map(const char *drop, const char *star, int upper_x) {
    CharMap map;
    for (int c = 0; c < 128; c++) map.to[c] = (unsigned char)c;
    for (const char *d = drop; *d; d++) map.to[(unsigned char)*d] = 0;
    for (const char *d = star; *d; d++) map.to[(unsigned char)*d] = '*';
    if (upper_x) map.to['x'] = 'X';
    map.to[0] = 1; /* NUL is kept as a character no kind holds */
    return map;
}

static Py_ssize_t ascii_map(const unsigned char *s, Py_ssize_t n, unsigned char *buf,
                            const CharMap *map, Py_ssize_t *fail) {
    Py_ssize_t raw_n = n;
    while (n > 0 && blank(s[0])) s++, n--;
    while (n > 0 && blank(s[n - 1])) n--;
    *fail = n == raw_n ? -1 : 0;
    if (n > NORM_MAX) return -2;
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x80) return -2;
        unsigned char t = map->to[c];
        if (t) buf[m++] = t;
    }
    return m;
}

static CharMap RID_MAP, PHONE_MAP, CARD_MAP; /* PHONE_MAP: mobiles and landlines */

static int shown(const unsigned char *s, Py_ssize_t n) { /* characters other than '*' */
    int k = 0;
    for (Py_ssize_t i = 0; i < n; i++) k += s[i] != '*';
    return k;
}

static int digits_or_star(const unsigned char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '*')) return 0;
    return 1;
}

static int has_star(const unsigned char *s, Py_ssize_t n) { return memchr(s, '*', n) != NULL; }

/* --- resident ID --------------------------------------------------------------------- */

/* FAST_REASONS then FLAGS order in resident_id.py */
enum { RID_UNKNOWN_DIVISION = 1, RID_IMPOSSIBLE_BIRTH, RID_FUTURE_BIRTH, RID_DIVISION_RETIRED,
       RID_BAD_CHECKSUM, RID_MASKED, RID_IMPLAUSIBLE_AGE };

typedef struct {
    const int16_t *last_year; /* per 6-digit code: -1 unknown, 0 in force, else last year */
    int earliest, today;      /* yyyymmdd: births before earliest are flagged implausible */
} RidCtx;

static const int RID_WEIGHTS[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char RID_CHECK[] = "10X98765432";

static int days_in_month(int y, int m) {
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

static char rid_check_char(const unsigned char *body) {
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (body[i] - '0') * RID_WEIGHTS[i];
    return RID_CHECK[sum % 11];
}

/* resident_id.normalize: separators dropped, '#' a mask, x to X (a check character only in
 * the last place), at least four characters shown; 15 digits widened to 18 (century 19). */
static Py_ssize_t rid_norm(const unsigned char *s, Py_ssize_t n, unsigned char *out,
                           const void *ctx) {
    (void)ctx;
    unsigned char b[NORM_MAX];
    Py_ssize_t fail, m = ascii_map(s, n, b, &RID_MAP, &fail);
    if (m == -2) return 0;
    for (Py_ssize_t i = 0; i < m && i < 17; i++)
        if (b[i] == 'X') b[i] = '*';
    if (shown(b, m) < 4) return fail;
    if (m == 18 && digits_or_star(b, 17) &&
        ((b[17] >= '0' && b[17] <= '9') || b[17] == 'X' || b[17] == '*')) {
        memcpy(out, b, 18);
        return 18;
    }
    if (m == 15 && digits_or_star(b, 15)) {
        memcpy(out, b, 6);
        out[6] = '1';
        out[7] = '9';
        memcpy(out + 8, b + 6, 9);
        out[17] = has_star(out, 17) ? '*' : rid_check_char(out);
        return 18;
    }
    return fail;
}

static unsigned char rid_code(const unsigned char *v, Py_ssize_t n, const void *vctx) {
    const RidCtx *ctx = (const RidCtx *)vctx;
    (void)n;
    int masked = has_star(v, 18);
    int last = -1, known = 0, old = 0;
    if (!has_star(v, 6)) {
        last = ctx->last_year[number(v, 6)];
        if (last < 0) return RID_UNKNOWN_DIVISION;
        known = 1;
    }
    if (!has_star(v + 6, 8)) {
        int century = number(v + 6, 2);
        int y = number(v + 6, 4), m = number(v + 10, 2), d = number(v + 12, 2);
        if (century < 18 || century > 20 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
            return RID_IMPOSSIBLE_BIRTH;
        int birth = y * 10000 + m * 100 + d;
        if (birth > ctx->today) return RID_FUTURE_BIRTH;
        old = birth < ctx->earliest;
        if (known && last > 0 && y > last) return RID_DIVISION_RETIRED;
    }
    if (!masked && rid_check_char(v) != v[17]) return RID_BAD_CHECKSUM;
    return masked ? RID_MASKED : old ? RID_IMPLAUSIBLE_AGE : 0;
}

static PyObject *resident_id(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError,
                        "resident_id(offsets, data, validity, offset, length, wide, "
                        "last_year, earliest, today)");
        return NULL;
    }
    Py_buffer table;
    if (get_table(args[6], &table, 1000000 * (Py_ssize_t)sizeof(int16_t), "last_year") < 0)
        return NULL;
    RidCtx ctx = {(const int16_t *)table.buf, (int)PyLong_AsLong(args[7]),
                  (int)PyLong_AsLong(args[8])};
    PyObject *out = PyErr_Occurred() ? NULL : run_norm(args, rid_norm, rid_code, &ctx);
    PyBuffer_Release(&table);
    return out;
}

/* --- mobile -------------------------------------------------------------------------- */

enum { MOBILE_UNALLOCATED = 1, MOBILE_MASKED };

/* mobile's table: 1 at 10^k + p for each allocated k-digit segment p (k = 3, 4, 5), and at
 * 200000 + h for each three-digit head h that some segment starts with */

/* The length of a leading country code as leaks write it (+86, 0086, 86), else 0. */
static Py_ssize_t country_code(const unsigned char *b, Py_ssize_t m) {
    if (m >= 3 && b[0] == '+' && b[1] == '8' && b[2] == '6') return 3;
    if (m >= 4 && b[0] == '0' && b[1] == '0' && b[2] == '8' && b[3] == '6') return 4;
    if (m >= 2 && b[0] == '8' && b[1] == '6') return 2;
    return 0;
}

/* mobile.normalize: separators dropped, x/X/# masks, +86 / 0086 / 86 removed. */
static Py_ssize_t mobile_norm(const unsigned char *s, Py_ssize_t n, unsigned char *out,
                              const void *ctx) {
    (void)ctx;
    unsigned char b[NORM_MAX];
    Py_ssize_t fail, m = ascii_map(s, n, b, &PHONE_MAP, &fail);
    if (m == -2) return 0;
    const unsigned char *g = b + (m == 11 ? 0 : country_code(b, m));
    if (m - (g - b) != 11) return fail;
    if (g[0] != '1' || !digits_or_star(g + 1, 10) || shown(g, 11) < 4) return fail;
    memcpy(out, g, 11);
    return 11;
}

static unsigned char mobile_code(const unsigned char *v, Py_ssize_t n, const void *vctx) {
    const unsigned char *table = (const unsigned char *)vctx;
    (void)n;
    int allocated = 0;
    if (!has_star(v, 3)) {
        int p = number(v, 3);
        if (!table[200000 + p]) return MOBILE_UNALLOCATED;
        allocated = table[1000 + p];
        if (!allocated && !has_star(v, 4)) {
            p = p * 10 + (v[3] - '0');
            allocated = table[10000 + p];
            if (!allocated && !has_star(v, 5)) allocated = table[100000 + p * 10 + (v[4] - '0')];
        }
    }
    if (has_star(v, 11)) return MOBILE_MASKED;
    return allocated ? 0 : MOBILE_UNALLOCATED;
}

static PyObject *mobile(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return run_with_table(args, nargs, "mobile", "allocated", 201000, mobile_norm, mobile_code);
}

/* --- bank card ----------------------------------------------------------------------- */

enum { CARD_BAD_CHECKSUM = 1, CARD_MASKED };

/* bank_card.normalize: separators dropped, x/X/# masks, 16-19 characters, four shown. */
static Py_ssize_t card_norm(const unsigned char *s, Py_ssize_t n, unsigned char *out,
                            const void *ctx) {
    (void)ctx;
    unsigned char b[NORM_MAX];
    Py_ssize_t fail, m = ascii_map(s, n, b, &CARD_MAP, &fail);
    if (m == -2) return 0;
    if (m < 16 || m > 19 || !digits_or_star(b, m) || shown(b, m) < 4) return fail;
    memcpy(out, b, m);
    return m;
}

static unsigned char card_code(const unsigned char *v, Py_ssize_t n, const void *ctx) {
    (void)ctx;
    if (has_star(v, n)) return CARD_MASKED;
    int sum = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int d = v[n - 1 - i] - '0';
        sum += (i & 1) ? (d >= 5 ? 2 * d - 9 : 2 * d) : d;
    }
    return sum % 10 == 0 ? 0 : CARD_BAD_CHECKSUM;
}

static PyObject *bank_card(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "bank_card(offsets, data, validity, offset, length, wide)");
        return NULL;
    }
    return run_norm(args, card_norm, card_code, NULL);
}

/* --- landline ------------------------------------------------------------------------ */

/* FAST_REASONS order in landline.py */
enum { LAND_UNKNOWN_AREA = 1, LAND_BAD_LOCAL_LENGTH, LAND_MASKED };

/* landline.normalize for ASCII: separators dropped, x/X/# masks, then "0" + the national
 * number after a +86 / 0086 / 86 prefix or the trunk 0:
 * (?:(?:\+86|0086|86)0?|0)([1-9*][0-9*]{9,10}), at least four digits shown. */
static Py_ssize_t land_normalise(const unsigned char *s, Py_ssize_t n, unsigned char *out,
                                 const void *ctx) {
    (void)ctx;
    unsigned char b[NORM_MAX];
    Py_ssize_t fail, m = ascii_map(s, n, b, &PHONE_MAP, &fail);
    if (m == -2) return 0;
    Py_ssize_t g = country_code(b, m);
    if (g > 0 && g < m && b[g] == '0') g++;
    else if (g == 0 && m >= 1 && b[0] == '0') g = 1;
    else if (g == 0) return fail;
    Py_ssize_t len = m - g;
    if (len < 10 || len > 11 || b[g] == '0' || !digits_or_star(b + g, len) || shown(b + g, len) < 4)
        return fail;
    out[0] = '0';
    memcpy(out + 1, b + g, len);
    return len + 1;
}

/* landline's table: per area code (4 digits with its 0 at [0, 10000), 3 digits at 10000 +
 * code): bit 1 known, bit 2 local numbers of 7 digits accepted, bit 4 of 8 digits */

static unsigned char land_codes(const unsigned char *v, Py_ssize_t n, const void *vctx) {
    const unsigned char *lengths = (const unsigned char *)vctx;
    int masked = memchr(v, '*', n) != NULL;
    int two = v[1] == '1' || v[1] == '2';
    Py_ssize_t area_len = two ? 3 : 4;
    int area_visible = v[1] != '*' && memchr(v, '*', area_len) == NULL;
    if (area_visible) {
        int area = 0;
        for (Py_ssize_t i = 0; i < area_len; i++) area = area * 10 + (v[i] - '0');
        unsigned char bits = lengths[(two ? 10000 : 0) + area];
        if (!(bits & 1)) return LAND_UNKNOWN_AREA;
        Py_ssize_t local = n - area_len;
        if (!((local == 7 && (bits & 2)) || (local == 8 && (bits & 4))))
            return LAND_BAD_LOCAL_LENGTH;
    }
    return masked ? LAND_MASKED : FINISH;
}

static PyObject *landline(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return run_with_table(args, nargs, "landline", "lengths", 11000, land_normalise, land_codes);
}


/* --- e-mail -------------------------------------------------------------------------- */

/* FAST_REASONS order in email.py */
enum { MAIL_BAD_LENGTH = 1, MAIL_BAD_LOCAL, MAIL_BAD_DOMAIN };

static int mail_char(unsigned char c) { /* [a-z0-9._%+-]: the canonical form's characters */
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '%' || c == '+' || c == '-';
}

static unsigned char email_check(const unsigned char *s, Py_ssize_t n, const void *ctx) {
    (void)ctx;
    Py_ssize_t at = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '@') {
            if (at >= 0) return SLOW;
            at = i;
        } else if (!mail_char(s[i])) {
            return SLOW;
        }
    }
    if (at <= 0 || at == n - 1) return SLOW;
    /* the domain of the canonical form has no '_', '%' or '+' */
    for (Py_ssize_t i = at + 1; i < n; i++)
        if (s[i] == '_' || s[i] == '%' || s[i] == '+') return SLOW;
    if (n > 254 || at > 64) return MAIL_BAD_LENGTH;
    /* local part: dot-separated non-empty atoms */
    if (s[0] == '.' || s[at - 1] == '.') return MAIL_BAD_LOCAL;
    for (Py_ssize_t i = 1; i < at; i++)
        if (s[i] == '.' && s[i - 1] == '.') return MAIL_BAD_LOCAL;
    /* domain: labels [a-z0-9]([a-z0-9-]*[a-z0-9])? then '.', ending in a TLD of >= 2 letters */
    const unsigned char *d = s + at + 1;
    Py_ssize_t m = n - at - 1, start = 0, dots = 0;
    for (Py_ssize_t i = 0; i <= m; i++) {
        if (i < m && d[i] != '.') continue;
        Py_ssize_t len = i - start;
        if (len == 0) return MAIL_BAD_DOMAIN;
        if (i == m) { /* the TLD */
            if (len < 2) return MAIL_BAD_DOMAIN;
            for (Py_ssize_t j = start; j < i; j++)
                if (d[j] < 'a' || d[j] > 'z') return MAIL_BAD_DOMAIN;
        } else {
            if (d[start] == '-' || d[i - 1] == '-') return MAIL_BAD_DOMAIN;
            dots++;
        }
        start = i + 1;
    }
    return dots ? 0 : MAIL_BAD_DOMAIN;
}

static PyObject *email(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "email(offsets, data, validity, offset, length, wide)");
        return NULL;
    }
    return run(args, email_check, NULL);
}


/* --- person name --------------------------------------------------------------------- */

enum { NAME_UNKNOWN_SURNAME = 1 };

#define HAN_LO 0x3400 /* 㐀: the ideographs names are written in, 㐀-䶿 and 一-鿿 */
#define HAN_HI 0x9FFF
#define MOU 0x67D0    /* 某, a customary mask ("张某"): left to Polars */

typedef struct {
    const unsigned char *single; /* per code point - HAN_LO: a one-character surname */
    const uint64_t *compound;    /* sorted (first << 32 | second) of two-character surnames */
    Py_ssize_t n_compound;
} NameCtx;

/* The code point of the ideograph at s (three bytes), or -1. */
static long han_at(const unsigned char *s, Py_ssize_t left) {
    int len;
    uint32_t cp = utf8_at(s, left, 0, &len);
    if (len != 3 || cp < HAN_LO || cp > HAN_HI || (cp > 0x4DBF && cp < 0x4E00) || cp == MOU)
        return -1;
    return (long)cp;
}

static unsigned char name_check(const unsigned char *s, Py_ssize_t n, const void *vctx) {
    const NameCtx *ctx = (const NameCtx *)vctx;
    if (n < 6 || n > 12 || n % 3) return SLOW; /* 2-4 characters of three bytes each */
    long cps[4];
    for (Py_ssize_t i = 0; i < n / 3; i++)
        if ((cps[i] = han_at(s + 3 * i, n - 3 * i)) < 0) return SLOW;
    uint64_t pair = ((uint64_t)cps[0] << 32) | (uint64_t)cps[1];
    Py_ssize_t lo = 0, hi = ctx->n_compound;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (ctx->compound[mid] < pair) lo = mid + 1;
        else hi = mid;
    }
    if (lo < ctx->n_compound && ctx->compound[lo] == pair) return 0;
    return ctx->single[cps[0] - HAN_LO] ? 0 : NAME_UNKNOWN_SURNAME;
}

static PyObject *person_name(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "person_name(offsets, data, validity, offset, length, wide, single, "
                        "compound)");
        return NULL;
    }
    Py_buffer single, compound;
    if (PyObject_GetBuffer(args[6], &single, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[7], &compound, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&single);
        return NULL;
    }
    PyObject *out = NULL;
    if (single.len != HAN_HI - HAN_LO + 1 || compound.len % 8) {
        PyErr_SetString(PyExc_ValueError, "surname tables of the wrong size");
    } else {
        NameCtx ctx = {(const unsigned char *)single.buf, (const uint64_t *)compound.buf,
                       compound.len / 8};
        out = run(args, name_check, &ctx);
    }
    PyBuffer_Release(&single);
    PyBuffer_Release(&compound);
    return out;
}


/* --- address ------------------------------------------------------------------------- */

/* FAST_REASONS order in address.py */
enum { ADDR_BAD_LENGTH = 1, ADDR_NO_DIVISION, ADDR_NO_DETAIL };

/* A set of short UTF-8 strings (division names, detail markers), open addressing. */
typedef struct {
    const unsigned char *blob; /* the strings, each followed by '\n' */
    uint32_t *slots;           /* offset + 1 into blob, 0 empty */
    uint32_t mask;
    int max_chars;
} StrSet;

static uint64_t fnv(const unsigned char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

static int strset_init(StrSet *set, const unsigned char *blob, Py_ssize_t len) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < len; i++) count += blob[i] == '\n';
    uint32_t size = 64;
    while (size < 4 * count) size <<= 1;
    set->slots = (uint32_t *)PyMem_Calloc(size, sizeof(uint32_t));
    if (set->slots == NULL) return -1;
    set->blob = blob;
    set->mask = size - 1;
    set->max_chars = 0;
    for (Py_ssize_t start = 0, i = 0; i < len; i++) {
        if (blob[i] != '\n') continue;
        uint32_t h = (uint32_t)fnv(blob + start, i - start) & set->mask;
        while (set->slots[h]) h = (h + 1) & set->mask;
        set->slots[h] = (uint32_t)start + 1;
        int chars = 0;
        for (Py_ssize_t j = start; j < i; j++) chars += (blob[j] & 0xC0) != 0x80;
        if (chars > set->max_chars) set->max_chars = chars;
        start = i + 1;
    }
    return 0;
}

static int strset_has(const StrSet *set, const unsigned char *s, Py_ssize_t n) {
    uint32_t h = (uint32_t)fnv(s, n) & set->mask;
    while (set->slots[h]) {
        const unsigned char *e = set->blob + set->slots[h] - 1;
        if (memcmp(e, s, n) == 0 && e[n] == '\n') return 1;
        h = (h + 1) & set->mask;
    }
    return 0;
}

/* Whether some substring of s (whole characters, at least two) is in the set. */
static int strset_found_in(const StrSet *set, const unsigned char *s, Py_ssize_t n, int min_chars) {
    for (Py_ssize_t a = 0; a < n; a++) {
        if ((s[a] & 0xC0) == 0x80) continue;
        int chars = 0;
        for (Py_ssize_t b = a + 1; b <= n && chars < set->max_chars; b++) {
            if (b < n && (s[b] & 0xC0) == 0x80) continue;
            chars++;
            if (chars >= min_chars && strset_has(set, s + a, b - a)) return 1;
        }
    }
    return 0;
}

typedef struct {
    StrSet names, markers;
} AddrCtx;

static unsigned char addr_check(const unsigned char *s, Py_ssize_t n, const void *vctx) {
    const AddrCtx *ctx = (const AddrCtx *)vctx;
    Py_ssize_t chars = 0;
    int han = 0, len;
    for (Py_ssize_t i = 0; i < n; i += len, chars++) {
        uint32_t cp = utf8_at(s, n, i, &len);
        if (cp < 0x80) {
            if (cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == '*' || cp < 0x20 || cp == 0x7F)
                return SLOW; /* blanks to drop, masks */
        } else if (len != 3) {
            /* 2- and 4-byte characters: Latin-1 spaces and others, leave them to Polars */
            return SLOW;
        } else {
            if (cp >= 0x4E00 && cp <= 0x9FFF) han = 1;
            /* full-width forms, the ideographic space, masks and other blanks: to Polars */
            else if ((cp >= 0xFF01 && cp <= 0xFF5E) || cp == 0x3000 || cp == 0x25CF ||
                     cp == 0x25CB || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 ||
                     cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0xFEFF || cp == 0x1680)
                return SLOW;
        }
    }
    if (!han || chars < 4) return SLOW;
    if (chars < 6 || chars > 200) return ADDR_BAD_LENGTH;
    if (!strset_found_in(&ctx->names, s, n, 2)) return ADDR_NO_DIVISION;
    if (!strset_found_in(&ctx->markers, s, n, 1)) return ADDR_NO_DETAIL;
    return 0;
}

static PyObject *address(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "address(offsets, data, validity, offset, length, wide, names, markers)");
        return NULL;
    }
    Py_buffer names, markers;
    if (PyObject_GetBuffer(args[6], &names, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[7], &markers, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&names);
        return NULL;
    }
    AddrCtx ctx;
    PyObject *out = NULL;
    ctx.markers.slots = NULL;
    if (strset_init(&ctx.names, names.buf, names.len) == 0) {
        if (strset_init(&ctx.markers, markers.buf, markers.len) == 0) {
            out = run(args, addr_check, &ctx);
            PyMem_Free(ctx.markers.slots);
        }
        PyMem_Free(ctx.names.slots);
    }
    if (out == NULL && !PyErr_Occurred()) PyErr_NoMemory();
    PyBuffer_Release(&names);
    PyBuffer_Release(&markers);
    return out;
}


/* --- character counts ---------------------------------------------------------------- */

/* How many characters of each value are in ``chars`` (ASCII), capped at 250: how free-text
 * candidates are sorted to the kinds by their number of digits. */
static unsigned char count_in(const unsigned char *s, Py_ssize_t n, const void *ctx) {
    const unsigned char *set = (const unsigned char *)ctx;
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) k += s[i] < 128 && set[s[i]];
    return (unsigned char)(k > 250 ? 250 : k);
}

static PyObject *count_chars(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7 || !PyBytes_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError,
                        "count_chars(offsets, data, validity, offset, length, wide, chars: bytes)");
        return NULL;
    }
    unsigned char set[128] = {0};
    const char *chars = PyBytes_AS_STRING(args[6]);
    for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(args[6]); i++)
        if ((unsigned char)chars[i] < 128) set[(unsigned char)chars[i]] = 1;
    PyObject *out = run(args, count_in, set);
    if (out == NULL) return NULL;
    /* run() marks empty values EMPTY; they hold no character */
    unsigned char *c = (unsigned char *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(out); i++)
        if (c[i] == EMPTY) c[i] = 0;
    return out;
}

static PyMethodDef methods[] = {
    {"resident_id", (PyCFunction)(void (*)(void))resident_id, METH_FASTCALL,
     "Codes of 18-digit resident IDs: division, birth date, retirement, MOD 11-2."},
    {"mobile", (PyCFunction)(void (*)(void))mobile, METH_FASTCALL,
     "Codes of 11-digit mobiles: allocated segment."},
    {"bank_card", (PyCFunction)(void (*)(void))bank_card, METH_FASTCALL,
     "Codes of 16-19 digit card numbers: Luhn."},
    {"landline", (PyCFunction)(void (*)(void))landline, METH_FASTCALL,
     "Codes and normalised values of landlines: area code, local length, masks."},
    {"email", (PyCFunction)(void (*)(void))email, METH_FASTCALL,
     "Codes of lower-case e-mail addresses: length, local part, domain."},
    {"person_name", (PyCFunction)(void (*)(void))person_name, METH_FASTCALL,
     "Codes of two- to four-character names: known surname."},
    {"address", (PyCFunction)(void (*)(void))address, METH_FASTCALL,
     "Codes of addresses: length, a division's name, a street-level marker."},
    {"count_chars", (PyCFunction)(void (*)(void))count_chars, METH_FASTCALL,
     "How many characters of each value are in the given ASCII set (at most 250)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_checks",
    "The digit kinds' checks over whole Arrow string columns.", -1, methods,
};

PyMODINIT_FUNC PyInit__checks(void) {
    /* the kinds' CharMaps (resident_id.py, mobile.py and landline.py, bank_card.py) for ASCII */
    RID_MAP = char_map(" \t\r\n-", "#", 1);
    PHONE_MAP = char_map(" \t\r\n-.()", "#xX", 0);
    CARD_MAP = char_map(" \t\r\n-", "#xX", 0);
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "NOT_KIND", NOT_KIND) < 0 ||
        PyModule_AddIntConstant(m, "FINISH", FINISH) < 0 ||
        PyModule_AddIntConstant(m, "EMPTY", EMPTY) < 0 ||
        PyModule_AddIntConstant(m, "SLOW", SLOW) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
