/* The checks of the digit kinds on whole Arrow string columns, in one pass each.
 *
 * These are the same rules as the kinds' Python and Polars code (resident_id.py, mobile.py,
 * bank_card.py), for values already in canonical form; anything else is left to those.
 * Each function walks an Arrow string or large_string array given by its buffers and returns
 * one code byte per value:
 *   0        valid
 *   1..k     the first failing check, numbered as in the kind's FAST_REASONS tuple
 *   EMPTY    null or the empty string
 *   SLOW     not in canonical form: normalise and validate it in Polars
 * A test (tests/test_pii_fast.py) checks every code against the scalar rules.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define EMPTY 254
#define SLOW 255

typedef struct {
    Py_buffer offsets, data, validity;
    int wide;            /* offsets are int64 (large_string) */
    int has_validity;
    Py_ssize_t offset;   /* the array's offset into its buffers */
    Py_ssize_t length;
} Column;

static void column_release(Column *c) {
    PyBuffer_Release(&c->offsets);
    PyBuffer_Release(&c->data);
    if (c->has_validity) PyBuffer_Release(&c->validity);
}

/* Parse (offsets, data, validity-or-None, offset, length, wide) from args[0..5]. */
static int column_parse(PyObject *const *args, Column *c) {
    memset(c, 0, sizeof(*c));
    if (PyObject_GetBuffer(args[0], &c->offsets, PyBUF_SIMPLE) < 0) return -1;
    if (PyObject_GetBuffer(args[1], &c->data, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&c->offsets);
        return -1;
    }
    if (args[2] != Py_None) {
        if (PyObject_GetBuffer(args[2], &c->validity, PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&c->offsets);
            PyBuffer_Release(&c->data);
            return -1;
        }
        c->has_validity = 1;
    }
    c->offset = PyLong_AsSsize_t(args[3]);
    c->length = PyLong_AsSsize_t(args[4]);
    c->wide = PyObject_IsTrue(args[5]);
    if (PyErr_Occurred()) goto bad;
    Py_ssize_t width = c->wide ? 8 : 4;
    if (c->offset < 0 || c->length < 0 ||
        c->offsets.len < (c->offset + c->length + 1) * width ||
        (c->has_validity && c->validity.len * 8 < c->offset + c->length)) {
        PyErr_SetString(PyExc_ValueError, "buffers too short for the array's offset and length");
        goto bad;
    }
    return 0;
bad:
    column_release(c);
    return -1;
}

/* The bytes of value i, or NULL for a null value. Returns 0 when a range is out of bounds. */
static int column_value(const Column *c, Py_ssize_t i, const unsigned char **s, Py_ssize_t *n) {
    Py_ssize_t j = c->offset + i;
    if (c->has_validity) {
        const unsigned char *bits = (const unsigned char *)c->validity.buf;
        if (!(bits[j >> 3] & (1 << (j & 7)))) {
            *s = NULL;
            *n = 0;
            return 1;
        }
    }
    int64_t a, b;
    if (c->wide) {
        a = ((const int64_t *)c->offsets.buf)[j];
        b = ((const int64_t *)c->offsets.buf)[j + 1];
    } else {
        a = ((const int32_t *)c->offsets.buf)[j];
        b = ((const int32_t *)c->offsets.buf)[j + 1];
    }
    if (a < 0 || b < a || b > c->data.len) return 0;
    *s = (const unsigned char *)c->data.buf + a;
    *n = (Py_ssize_t)(b - a);
    return 1;
}

static int all_digits(const unsigned char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

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

/* --- resident ID --------------------------------------------------------------------- */

/* FAST_REASONS order in resident_id.py */
enum { RID_UNKNOWN_DIVISION = 1, RID_IMPOSSIBLE_BIRTH, RID_FUTURE_BIRTH, RID_IMPLAUSIBLE_AGE,
       RID_DIVISION_RETIRED, RID_BAD_CHECKSUM };

typedef struct {
    const int16_t *last_year; /* per 6-digit code: -1 unknown, 0 in force, else last year */
    int earliest, today;      /* yyyymmdd */
} RidCtx;

static const int RID_WEIGHTS[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char RID_CHECK[] = "10X98765432";

static int days_in_month(int y, int m) {
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

static unsigned char rid_check(const unsigned char *s, Py_ssize_t n, const void *vctx) {
    const RidCtx *ctx = (const RidCtx *)vctx;
    if (n != 18 || !all_digits(s, 17) || !((s[17] >= '0' && s[17] <= '9') || s[17] == 'X'))
        return SLOW;
    int last = ctx->last_year[number(s, 6)];
    if (last < 0) return RID_UNKNOWN_DIVISION;
    int century = number(s + 6, 2);
    int y = number(s + 6, 4), m = number(s + 10, 2), d = number(s + 12, 2);
    if (century < 18 || century > 20 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return RID_IMPOSSIBLE_BIRTH;
    int birth = y * 10000 + m * 100 + d;
    if (birth > ctx->today) return RID_FUTURE_BIRTH;
    if (birth < ctx->earliest) return RID_IMPLAUSIBLE_AGE;
    if (last > 0 && y > last) return RID_DIVISION_RETIRED;
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (s[i] - '0') * RID_WEIGHTS[i];
    return RID_CHECK[sum % 11] == s[17] ? 0 : RID_BAD_CHECKSUM;
}

static PyObject *resident_id(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError,
                        "resident_id(offsets, data, validity, offset, length, wide, "
                        "last_year, earliest, today)");
        return NULL;
    }
    Py_buffer table;
    if (PyObject_GetBuffer(args[6], &table, PyBUF_SIMPLE) < 0) return NULL;
    if (table.len != 1000000 * (Py_ssize_t)sizeof(int16_t)) {
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "last_year must hold 1,000,000 int16 values");
        return NULL;
    }
    RidCtx ctx = {(const int16_t *)table.buf, (int)PyLong_AsLong(args[7]),
                  (int)PyLong_AsLong(args[8])};
    PyObject *out = PyErr_Occurred() ? NULL : run(args, rid_check, &ctx);
    PyBuffer_Release(&table);
    return out;
}

/* --- mobile -------------------------------------------------------------------------- */

enum { MOBILE_UNALLOCATED = 1 };

typedef struct {
    const unsigned char *allocated; /* 1 at index 10^k + prefix for each k-digit segment */
} MobileCtx;

static unsigned char mobile_check(const unsigned char *s, Py_ssize_t n, const void *vctx) {
    const MobileCtx *ctx = (const MobileCtx *)vctx;
    if (n != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' || !all_digits(s, 11)) return SLOW;
    int p = number(s, 3);
    if (ctx->allocated[1000 + p]) return 0;
    p = p * 10 + (s[3] - '0');
    if (ctx->allocated[10000 + p]) return 0;
    p = p * 10 + (s[4] - '0');
    return ctx->allocated[100000 + p] ? 0 : MOBILE_UNALLOCATED;
}

static PyObject *mobile(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "mobile(offsets, data, validity, offset, length, wide, allocated)");
        return NULL;
    }
    Py_buffer table;
    if (PyObject_GetBuffer(args[6], &table, PyBUF_SIMPLE) < 0) return NULL;
    if (table.len != 200000) {
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "allocated must hold 200,000 bytes");
        return NULL;
    }
    MobileCtx ctx = {(const unsigned char *)table.buf};
    PyObject *out = run(args, mobile_check, &ctx);
    PyBuffer_Release(&table);
    return out;
}

/* --- bank card ----------------------------------------------------------------------- */

enum { CARD_BAD_CHECKSUM = 1 };

static unsigned char card_check(const unsigned char *s, Py_ssize_t n, const void *ctx) {
    (void)ctx;
    if (n < 16 || n > 19 || !all_digits(s, n)) return SLOW;
    int sum = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int d = s[n - 1 - i] - '0';
        sum += (i & 1) ? (d >= 5 ? 2 * d - 9 : 2 * d) : d;
    }
    return sum % 10 == 0 ? 0 : CARD_BAD_CHECKSUM;
}

static PyObject *bank_card(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "bank_card(offsets, data, validity, offset, length, wide)");
        return NULL;
    }
    return run(args, card_check, NULL);
}

static PyMethodDef methods[] = {
    {"resident_id", (PyCFunction)(void (*)(void))resident_id, METH_FASTCALL,
     "Codes of 18-digit resident IDs: division, birth date, retirement, MOD 11-2."},
    {"mobile", (PyCFunction)(void (*)(void))mobile, METH_FASTCALL,
     "Codes of 11-digit mobiles: allocated segment."},
    {"bank_card", (PyCFunction)(void (*)(void))bank_card, METH_FASTCALL,
     "Codes of 16-19 digit card numbers: Luhn."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_checks",
    "The digit kinds' checks over whole Arrow string columns.", -1, methods,
};

PyMODINIT_FUNC PyInit__checks(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "EMPTY", EMPTY) < 0 ||
        PyModule_AddIntConstant(m, "SLOW", SLOW) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
