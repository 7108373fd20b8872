/* What the C extensions share: reading an Arrow string or large_string array from its
 * buffers, and decoding its UTF-8.
 *
 * Python passes (offsets, data, validity-or-None, offset, length, wide) as the first six
 * arguments (leaktrace.pii.columns.arrow_args builds them); each module includes this header.
 */
#ifndef LEAKTRACE_COLUMN_H
#define LEAKTRACE_COLUMN_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

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

/* The code point at s[i] and its length in bytes (the input is valid UTF-8; a stray byte
 * counts as one character that no class holds). */
static inline uint32_t utf8_at(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, int *len) {
    unsigned char c = s[i];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if ((c & 0xE0) == 0xC0 && i + 1 < n) {
        *len = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
    }
    if ((c & 0xF0) == 0xE0 && i + 2 < n) {
        *len = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    }
    if ((c & 0xF8) == 0xF0 && i + 3 < n) {
        *len = 4;
        return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
               ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
    }
    *len = 1;
    return 0xFFFFFFFF;
}

#endif
