/* SQL dump rows into Arrow string columns: the VALUES tuples of INSERT statements (MySQL and
 * PostgreSQL literals) and the rows of PostgreSQL COPY ... FROM stdin blocks, parsed from
 * UTF-8 bytes in one pass, each value unescaped straight into its column's buffers.
 *
 * Both parsers stop where Python must decide: at the end of a statement that is not followed
 * by the same statement head, at a row cap, where the buffer ends inside a row (Python reads
 * more and calls again from the returned position), or at a syntax error no later tuple is
 * found after. A row of the wrong width, or a tuple that does not parse, is left out and
 * reported by its byte offset. tests/test_ingest_sql.py holds both to
 * round trips of generated values written as mysqldump and pg_dump write them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned char uc;
typedef Py_ssize_t ssz;

enum { S_END, S_MORE, S_OTHER, S_ERROR, S_FULL };
enum { D_MYSQL, D_POSTGRES };
#define DATA_MAX ((ssz)1 << 30) /* bytes of one column per call: int32 offsets stay valid */

typedef struct {
    char *data;
    ssz len, cap;
    int32_t *off; /* rows + 1 */
    uc *nul;      /* one flag per row */
    ssz nulls;
} Col;

typedef struct {
    Col *cols;
    ssz ncols, rows, cap;
    Col scratch; /* values past the expected width are parsed into this, then dropped */
    PyObject *bad; /* [(byte offset, width), ...] of rows left out */
} Out;

static int col_reserve(Col *c, ssz need) {
    if (c->len + need <= c->cap) return 0;
    ssz cap = c->cap ? c->cap : 4096;
    while (cap < c->len + need) cap *= 2;
    char *d = realloc(c->data, cap);
    if (!d) return -1;
    c->data = d;
    c->cap = cap;
    return 0;
}

static void out_free(Out *o) {
    for (ssz j = 0; j < o->ncols; j++) {
        free(o->cols[j].data);
        free(o->cols[j].off);
        free(o->cols[j].nul);
    }
    free(o->cols);
    free(o->scratch.data);
    Py_XDECREF(o->bad);
}

/* Allocate the columns once the width is known. */
static int out_columns(Out *o, ssz ncols) {
    o->ncols = ncols;
    o->cap = 1024;
    o->cols = calloc(ncols ? ncols : 1, sizeof(Col));
    if (!o->cols) return -1;
    for (ssz j = 0; j < ncols; j++) {
        o->cols[j].off = malloc((o->cap + 1) * sizeof(int32_t));
        o->cols[j].nul = malloc(o->cap);
        if (!o->cols[j].off || !o->cols[j].nul) return -1;
        o->cols[j].off[0] = 0;
    }
    return 0;
}

static int out_room_for_row(Out *o) {
    if (o->rows < o->cap) return 0;
    ssz cap = o->cap * 2;
    for (ssz j = 0; j < o->ncols; j++) {
        int32_t *off = realloc(o->cols[j].off, (cap + 1) * sizeof(int32_t));
        if (!off) return -1;
        o->cols[j].off = off;
        uc *nul = realloc(o->cols[j].nul, cap);
        if (!nul) return -1;
        o->cols[j].nul = nul;
    }
    o->cap = cap;
    return 0;
}

/* The column value j goes to: its own, or the scratch for values past the width. */
static Col *target(Out *o, ssz j) {
    if (j < o->ncols) return &o->cols[j];
    o->scratch.len = 0;
    return &o->scratch;
}

static ssz skip_space(const uc *b, ssz p, ssz n);

static int note_bad(Out *o, ssz offset, ssz width) {
    PyObject *t = Py_BuildValue("(nn)", offset, width);
    if (!t || PyList_Append(o->bad, t) < 0) {
        Py_XDECREF(t);
        return -1;
    }
    Py_DECREF(t);
    return 0;
}

/* Keep the row just parsed (``width`` values) if it has the expected width; else undo it. */
static int finish_row(Out *o, ssz width, ssz offset) {
    if (width == o->ncols) {
        for (ssz j = 0; j < o->ncols; j++) {
            Col *c = &o->cols[j];
            c->nulls += c->nul[o->rows];
            c->off[o->rows + 1] = (int32_t)c->len;
        }
        o->rows++;
        return 0;
    }
    for (ssz j = 0; j < o->ncols; j++) o->cols[j].len = o->cols[j].off[o->rows];
    if (width < 0) return 0; /* a row cut short or broken: not reported here */
    return note_bad(o, offset, width);
}

/* Where parsing goes on after a tuple that does not parse at b[at]: the ',' or ';' after the
 * next ')' that is followed by one (-1 if none is in the buffer). Quotes are not tracked: a
 * broken tuple has no trustworthy quoting, and what follows is parsed again anyway. */
static ssz next_tuple(const uc *b, ssz at, ssz n) {
    for (ssz p = at + 1; p < n; p++) {
        if (b[p] != ')') continue;
        ssz q = skip_space(b, p + 1, n);
        if (q < n && (b[q] == ';' || (b[q] == ',' && skip_space(b, q + 1, n) < n &&
                                       b[skip_space(b, q + 1, n)] == '(')))
            return q;
    }
    return -1;
}

static int over_cap(const Out *o, ssz max_rows) {
    if (o->rows >= max_rows) return 1;
    for (ssz j = 0; j < o->ncols; j++)
        if (o->cols[j].len >= DATA_MAX) return 1;
    return 0;
}

static int is_space(uc ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

static ssz skip_space(const uc *b, ssz p, ssz n) {
    while (p < n && is_space(b[p])) p++;
    return p;
}

static char *put_utf8(char *w, uint32_t cp) {
    if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* a lone surrogate is no character */
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xE0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

static int hexval(uc ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* PostgreSQL's backslash escapes (E'' strings and COPY): b[p] follows the backslash.
 * Writes the character, returns the bytes read after the backslash. */
static ssz pg_escape(const uc *b, ssz p, ssz n, char **w, int unicode) {
    uc ch = b[p];
    if (ch >= '0' && ch <= '7') {
        uint32_t v = 0;
        ssz k = 0;
        while (k < 3 && p + k < n && b[p + k] >= '0' && b[p + k] <= '7') v = v * 8 + (b[p + k++] - '0');
        *w = put_utf8(*w, v);
        return k;
    }
    if (ch == 'x' && p + 1 < n && hexval(b[p + 1]) >= 0) {
        uint32_t v = hexval(b[p + 1]);
        ssz k = 2;
        if (p + 2 < n && hexval(b[p + 2]) >= 0) v = v * 16 + hexval(b[p + k++]);
        *w = put_utf8(*w, v);
        return k;
    }
    if (unicode && ch == 'u' && p + 4 < n && hexval(b[p + 1]) >= 0 && hexval(b[p + 2]) >= 0 &&
        hexval(b[p + 3]) >= 0 && hexval(b[p + 4]) >= 0) {
        uint32_t v = 0;
        for (int k = 1; k <= 4; k++) v = v * 16 + hexval(b[p + k]);
        *w = put_utf8(*w, v);
        return 5;
    }
    const char *map = NULL;
    switch (ch) {
    case 'b': map = "\b"; break;
    case 'f': map = "\f"; break;
    case 'n': map = "\n"; break;
    case 'r': map = "\r"; break;
    case 't': map = "\t"; break;
    case 'v': map = "\v"; break;
    }
    *(*w)++ = map ? *map : (char)ch;
    return 1;
}

static const char *mysql_escape(uc ch) {
    switch (ch) {
    case '0': return "\0";
    case 'b': return "\b";
    case 'n': return "\n";
    case 'r': return "\r";
    case 't': return "\t";
    case 'Z': return "\x1a";
    case '%': return "\\%";
    case '_': return "\\_";
    }
    return NULL;
}

enum { Q_MYSQL, Q_PG_PLAIN, Q_PG_E, Q_RAW_MYSQL, Q_RAW_PG };

/* A quoted string from b[p] (the opening quote) into c. Returns the position after the
 * closing quote, 0 if the buffer ends first (more is needed), -1 on no memory. */
static ssz quoted(const uc *b, ssz p, ssz n, int mode, int final, Col *c) {
    uc q = b[p++];
    if (col_reserve(c, 64) < 0) return -1;
    char *w = c->data + c->len;
    int backslash = mode == Q_MYSQL || mode == Q_PG_E || mode == Q_RAW_MYSQL;
    int raw = mode == Q_RAW_MYSQL || mode == Q_RAW_PG;
    while (p < n) {
        uc ch = b[p];
        if (c->data + c->cap - w < 8) { /* room for the widest step: an escape's 3 bytes */
            c->len = w - c->data;
            if (col_reserve(c, c->cap) < 0) return -1;
            w = c->data + c->len;
        }
        if (ch == q) {
            if (p + 1 >= n && !final) return 0;
            if (p + 1 < n && b[p + 1] == q) {
                if (raw) *w++ = q;
                *w++ = q;
                p += 2;
                continue;
            }
            c->len = w - c->data;
            return p + 1;
        }
        if (ch == '\\' && backslash) {
            if (p + 1 >= n) return 0;
            if (raw) {
                *w++ = '\\';
                *w++ = b[p + 1];
                p += 2;
            } else if (mode == Q_MYSQL) {
                const char *e = mysql_escape(b[p + 1]);
                if (e && e[0] == '\\') {
                    *w++ = '\\';
                    *w++ = e[1];
                } else {
                    *w++ = e ? e[0] : (char)b[p + 1];
                }
                p += 2;
            } else {
                if (p + 5 >= n && !final) return 0; /* \u and octal escapes read ahead */
                p += 1 + pg_escape(b, p + 1, n, &w, 1);
            }
            continue;
        }
        *w++ = (char)ch;
        p++;
    }
    return 0;
}

static int bare_byte(uc ch) {
    return !(is_space(ch) || ch == '\'' || ch == '"' || ch == '(' || ch == ')' || ch == ',' || ch == ';');
}

/* One value at b[p] into column j. Returns the position after it, 0 if more input is needed,
 * -2 on a syntax error, -1 on no memory. Sets *null. */
static ssz value(const uc *b, ssz p, ssz n, int dialect, int final, Col *c, int *null) {
    uc ch = b[p];
    *null = 0;
    if (ch == '\'' || (ch == '"' && dialect == D_MYSQL))
        return quoted(b, p, n, dialect == D_MYSQL ? Q_MYSQL : Q_PG_PLAIN, final, c);
    ssz e = p;
    while (e < n && bare_byte(b[e])) e++;
    if (e >= n && !final) return 0;
    ssz k = e;
    int introducer = dialect == D_MYSQL && ch == '_' && e - p > 1; /* _utf8mb4 '...' */
    if (introducer) k = skip_space(b, e, n);
    if (k >= n && !final) return 0;
    if (k < n && b[k] == '\'') {
        uc lo = (uc)(ch | 0x20);
        if (introducer || (e - p == 1 && (lo == 'n' || (lo == 'e' && dialect == D_POSTGRES))))
            return quoted(b, k, n,
                          dialect == D_MYSQL ? Q_MYSQL : lo == 'e' ? Q_PG_E : Q_PG_PLAIN, final, c);
        if (e - p == 1 && (lo == 'x' || lo == 'b')) {
            if (col_reserve(c, 2) < 0) return -1;
            c->data[c->len++] = '0';
            c->data[c->len++] = (char)lo;
            return quoted(b, k, n, dialect == D_MYSQL ? Q_RAW_MYSQL : Q_RAW_PG, final, c);
        }
        return -2;
    }
    if (e == p) return -2;
    if (e - p == 4 && (b[p] | 0x20) == 'n' && (b[p + 1] | 0x20) == 'u' && (b[p + 2] | 0x20) == 'l' &&
        (b[p + 3] | 0x20) == 'l') {
        *null = 1;
        return e;
    }
    if (col_reserve(c, e - p) < 0) return -1;
    memcpy(c->data + c->len, b + p, e - p);
    c->len += e - p;
    return e;
}

/* One tuple at b[p] ('(' expected). Returns the position after ')', 0 when more input is
 * needed, -2 on a syntax error, -1 on no memory; *width gets the number of values. */
static ssz tuple(const uc *b, ssz p, ssz n, int dialect, int final, Out *o, ssz *width) {
    *width = 0;
    if (p >= n) return 0;
    if (b[p] != '(') return -2;
    p = skip_space(b, p + 1, n);
    if (p >= n) return 0;
    if (b[p] == ')') return p + 1;
    ssz j = 0;
    for (;;) {
        Col *c = target(o, j);
        int null;
        ssz e = value(b, p, n, dialect, final, c, &null);
        if (e <= 0) return e;
        if (j < o->ncols) c->nul[o->rows] = (uc)null;
        j++;
        p = skip_space(b, e, n);
        if (p >= n) return 0;
        if (b[p] == ')') {
            *width = j;
            return p + 1;
        }
        if (b[p] != ',') return -2;
        p = skip_space(b, p + 1, n);
        if (p >= n) return 0;
    }
}

static PyObject *result(int state, ssz pos, ssz stmt, Out *o) {
    PyObject *cols = PyList_New(o->ncols);
    if (!cols) return NULL;
    for (ssz j = 0; j < o->ncols; j++) {
        Col *c = &o->cols[j];
        PyObject *validity = Py_None;
        Py_INCREF(Py_None);
        if (c->nulls) {
            Py_DECREF(Py_None);
            validity = PyBytes_FromStringAndSize(NULL, (o->rows + 7) / 8);
            if (!validity) goto bad;
            uc *bits = (uc *)PyBytes_AS_STRING(validity);
            memset(bits, 0, (o->rows + 7) / 8);
            for (ssz i = 0; i < o->rows; i++)
                if (!c->nul[i]) bits[i >> 3] |= (uc)(1 << (i & 7));
        }
        PyObject *t = Py_BuildValue("(y#y#Nn)", (const char *)c->off, (ssz)((o->rows + 1) * 4),
                                    c->data ? c->data : "", c->len, validity, c->nulls);
        if (!t) goto bad;
        PyList_SET_ITEM(cols, j, t);
    }
    return Py_BuildValue("(innnnNO)", state, pos, stmt, o->ncols, o->rows, cols, o->bad);
bad:
    Py_DECREF(cols);
    return NULL;
}

/* Width of the tuple at b[p] without keeping it (for a table whose width is not known). */
static ssz tuple_width(const uc *b, ssz p, ssz n, int dialect, int final) {
    Out probe = {0};
    ssz width = -1;
    if (tuple(b, p, n, dialect, final, &probe, &width) <= 0) width = -1;
    free(probe.scratch.data);
    return width;
}

static int start_columns(Out *o, ssz ncols) {
    if (out_columns(o, ncols) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(values_doc,
"values(buf, pos, dialect, head, ncols, fixed, stmt, max_rows, final)\n"
"    -> (state, pos, stmt, ncols, rows, columns, bad)\n\n"
"Parse VALUES tuples from buf[pos:] (UTF-8), up to max_rows rows. dialect: 0 MySQL,\n"
"1 PostgreSQL. After a ';', a statement that starts with exactly ``head`` (the INSERT up to\n"
"VALUES) continues the rows; ``stmt`` is the offset of the statement in progress (returned\n"
"updated). ncols: the row width, or -1 to take the first row's; with ``fixed`` false, a\n"
"continuing statement of another width ends the call before it. state: 0 end (after ';' or\n"
"at the end of the input), 1 more input needed (pos: the tuple to parse again), 2 something\n"
"else follows the tuples (pos: there), 3 syntax error (pos: the tuple), 4 max_rows reached.\n"
"columns: (offsets, data, validity or None, null count) per column, Arrow string buffers;\n"
"bad: (byte offset, width) of each row of another width, left out, and (offset, -1) of each\n"
"tuple that does not parse, skipped up to the next tuple.");

static PyObject *values(PyObject *self, PyObject *args) {
    Py_buffer view;
    ssz pos, ncols, stmt, max_rows;
    int dialect, fixed, final;
    const char *head;
    ssz head_len;
    if (!PyArg_ParseTuple(args, "y*niy#npnnp", &view, &pos, &dialect, &head, &head_len, &ncols,
                          &fixed, &stmt, &max_rows, &final))
        return NULL;
    const uc *b = view.buf;
    ssz n = view.len;
    Out o = {0};
    PyObject *ret = NULL;
    int state = S_END;
    o.bad = PyList_New(0);
    if (!o.bad) goto done;
    if (ncols < 0) {
        ssz p = skip_space(b, pos, n);
        ncols = tuple_width(b, p, n, dialect, final);
        if (ncols < 0) ncols = 0; /* the first tuple is cut short or broken: found below */
    }
    if (start_columns(&o, ncols) < 0) goto done;
    int first_of_statement = 0;
    ssz p = pos;
    for (;;) {
        p = skip_space(b, p, n);
        ssz at = p, width;
        if (out_room_for_row(&o) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        ssz e = tuple(b, p, n, dialect, final, &o, &width);
        if (e == -1) {
            PyErr_NoMemory();
            goto done;
        }
        ssz resync = e == -2 ? next_tuple(b, at, n) : -1;
        if (resync >= 0) { /* a broken tuple costs itself only: on from the next one */
            finish_row(&o, -1, at);
            if (note_bad(&o, at, -1) < 0) goto done;
            p = resync;
            first_of_statement = 0;
            goto separator;
        }
        if (e <= 0) {
            finish_row(&o, -1, at);
            state = e == 0 && !final ? S_MORE : e == 0 && at >= n ? S_END : S_ERROR;
            if (e == -2 && !final && state == S_ERROR) state = S_MORE; /* its end may follow */
            pos = at;
            break;
        }
        if (first_of_statement && !fixed && width != o.ncols) {
            finish_row(&o, -1, at); /* a statement of another width: Python names its columns */
            state = S_END;
            pos = stmt;
            break;
        }
        first_of_statement = 0;
        p = skip_space(b, e, n);
        if (p >= n && !final) {
            finish_row(&o, -1, at); /* the separator is not read yet */
            state = S_MORE;
            pos = at;
            break;
        }
        if (finish_row(&o, width, at) < 0) goto done;
    separator:
        if (p >= n) {
            state = S_END;
            pos = p;
            break;
        }
        if (b[p] == ',') {
            p++;
            if (over_cap(&o, max_rows)) {
                state = S_FULL;
                pos = p;
                break;
            }
            continue;
        }
        if (b[p] != ';') {
            state = S_OTHER;
            pos = p;
            break;
        }
        p++;
        state = S_END;
        pos = p;
        /* the same head again: the next statement's rows join these */
        ssz q = skip_space(b, p, n);
        if (head_len == 0 || over_cap(&o, max_rows) || q + head_len >= n ||
            memcmp(b + q, head, head_len) != 0 || !(is_space(b[q + head_len]) || b[q + head_len] == '('))
            break;
        stmt = q;
        p = q + head_len;
        first_of_statement = 1;
    }
    ret = result(state, pos, stmt, &o);
done:
    out_free(&o);
    PyBuffer_Release(&view);
    return ret;
}

/* One COPY text-format row: tab-separated fields in b[p:e], \N a null. Returns the width. */
static ssz copy_fields(const uc *b, ssz p, ssz e, Out *o) {
    ssz j = 0;
    for (;;) {
        ssz f = p;
        while (f < e && b[f] != '\t') f++;
        Col *c = target(o, j);
        int null = f - p == 2 && b[p] == '\\' && b[p + 1] == 'N';
        if (!null) {
            if (col_reserve(c, f - p) < 0) return -1;
            char *w = c->data + c->len;
            for (ssz k = p; k < f;) {
                if (b[k] == '\\' && k + 1 < f) {
                    k += 1 + pg_escape(b, k + 1, f, &w, 0);
                } else {
                    *w++ = (char)b[k++];
                }
            }
            c->len = w - c->data;
        }
        if (j < o->ncols) c->nul[o->rows] = (uc)null;
        j++;
        if (f >= e) return j;
        p = f + 1;
    }
}

static ssz count_fields(const uc *b, ssz p, ssz e) {
    ssz k = 1;
    for (; p < e; p++) k += b[p] == '\t';
    return k;
}

PyDoc_STRVAR(copy_doc,
"copy(buf, pos, ncols, max_rows, final) -> (state, pos, stmt, ncols, rows, columns, bad)\n\n"
"Parse the rows of a COPY ... FROM stdin block from buf[pos:] up to its '\\.' line (state 0,\n"
"pos after it) or max_rows rows (4); 1 when the buffer ends inside a row (pos: that row).\n"
"stmt is always -1; columns and bad as for values().");

static PyObject *copy(PyObject *self, PyObject *args) {
    Py_buffer view;
    ssz pos, ncols, max_rows;
    int final;
    if (!PyArg_ParseTuple(args, "y*nnnp", &view, &pos, &ncols, &max_rows, &final)) return NULL;
    const uc *b = view.buf;
    ssz n = view.len;
    Out o = {0};
    PyObject *ret = NULL;
    int state = S_MORE;
    o.bad = PyList_New(0);
    if (!o.bad) goto done;
    ssz p = pos;
    for (;;) {
        const uc *nl = p < n ? memchr(b + p, '\n', n - p) : NULL;
        ssz stop = nl ? nl - b : n;
        ssz e = stop > p && b[stop - 1] == '\r' ? stop - 1 : stop;
        if (e - p == 2 && b[p] == '\\' && b[p + 1] == '.' && (nl || final)) {
            state = S_END;
            p = nl ? stop + 1 : n;
            break;
        }
        if (!nl) {
            state = S_MORE;
            break;
        }
        if (o.cols == NULL && start_columns(&o, ncols >= 0 ? ncols : count_fields(b, p, e)) < 0)
            goto done;
        if (out_room_for_row(&o) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        ssz width = copy_fields(b, p, e, &o);
        if (width < 0) {
            PyErr_NoMemory();
            goto done;
        }
        if (finish_row(&o, width, p) < 0) goto done;
        p = stop + 1;
        if (over_cap(&o, max_rows)) {
            state = S_FULL;
            break;
        }
    }
    if (o.cols == NULL && start_columns(&o, ncols >= 0 ? ncols : 0) < 0) goto done;
    ret = result(state, p, -1, &o);
done:
    out_free(&o);
    PyBuffer_Release(&view);
    return ret;
}

PyDoc_STRVAR(lines_doc,
"lines(buf, start, stop, prefixes) -> (newlines, heads)\n\n"
"One pass over buf[start:stop]: the number of newlines, and (offset, i) for each line that\n"
"starts there (at 0 or after a newline) with prefixes[i] (the statement heads a dump is\n"
"cut at, found at memchr speed).");

static PyObject *lines(PyObject *self, PyObject *args) {
    Py_buffer view;
    ssz start, stop;
    PyObject *prefixes;
    if (!PyArg_ParseTuple(args, "y*nnO!", &view, &start, &stop, &PyTuple_Type, &prefixes))
        return NULL;
    const uc *b = view.buf;
    ssz n = view.len < stop ? view.len : stop, count = 0, np = PyTuple_GET_SIZE(prefixes);
    PyObject *heads = PyList_New(0);
    if (!heads) goto fail;
    for (ssz k = 0; k < np; k++) {
        if (!PyBytes_Check(PyTuple_GET_ITEM(prefixes, k))) {
            PyErr_SetString(PyExc_TypeError, "prefixes must be bytes");
            goto fail;
        }
    }
    ssz p = start < 0 ? 0 : start;
    if (p > 0 && p < n && b[p - 1] != '\n') { /* not at a line start: go to the next one */
        const uc *nl = memchr(b + p, '\n', n - p);
        p = nl ? nl - b : n;
    }
    while (p < n) {
        if (p == 0 || b[p - 1] == '\n') {
            for (ssz k = 0; k < np; k++) {
                PyObject *pre = PyTuple_GET_ITEM(prefixes, k);
                ssz len = PyBytes_GET_SIZE(pre);
                if (p + len <= view.len && memcmp(b + p, PyBytes_AS_STRING(pre), len) == 0) {
                    PyObject *t = Py_BuildValue("(nn)", p, k);
                    if (!t || PyList_Append(heads, t) < 0) {
                        Py_XDECREF(t);
                        goto fail;
                    }
                    Py_DECREF(t);
                    break;
                }
            }
        }
        const uc *nl = memchr(b + p, '\n', n - p);
        if (!nl) break;
        count++;
        p = nl - b + 1;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(nN)", count, heads);
fail:
    Py_XDECREF(heads);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"values", values, METH_VARARGS, values_doc},
    {"copy", copy, METH_VARARGS, copy_doc},
    {"lines", lines, METH_VARARGS, lines_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sql", "SQL dump rows (INSERT tuples, COPY rows) into Arrow string buffers.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__sql(void) { return PyModule_Create(&module); }
