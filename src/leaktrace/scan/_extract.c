/* Free-text candidate extraction: the nine extractor patterns of leaktrace.scan.text in one
 * pass over each line of an Arrow string column.
 *
 * Each extractor finds the same matches as its regex does with a leftmost-first,
 * non-overlapping search (Rust's regex in Polars, Python's re): at every position where an
 * extractor's last match has ended, its alternatives are tried in the regex's order, and
 * quantifiers give back characters in the regex's greedy order. Each line is first folded to
 * half width as text.fold_text does, and the matches are cut from the folded line. Two
 * filters keep the output small: digit runs shorter than the shortest identifier (no digit
 * kind's run length) and tokens without the name_tok extractor's ``shape`` are not returned.
 * tests/test_scan_extract.py checks every extractor against its regex on random text.
 *
 * The words and names the patterns are built from (context words, province names, street
 * markers, plate provinces and suffixes) are passed in from the kinds, not written here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../_column.h"

typedef unsigned char uc;
typedef Py_ssize_t ssz;

enum { X_ID_CTX, X_DIGITS, X_EMAIL, X_PASSPORT, X_PLATE, X_NAME_CTX, X_NAME_TOK, X_ADDR_CTX,
       X_ADDR_TOK, X_N };
static const char *NAMES[X_N] = {"id_ctx",   "digits",   "email",    "passport", "plate",
                                 "name_ctx", "name_tok", "addr_ctx", "addr_tok"};

/* What may start at a character (one bit per extractor that a table lookup can decide). */
enum {
    F_DIGIT = 1,     /* [0-9+(] */
    F_PASSPORT = 2,  /* [EeGgDdSsPp] */
    F_PLATE = 4,     /* a plate's province character */
    F_NAME_CTX = 8,  /* the first character of a name context word */
    F_ADDR_CTX = 16, /* the first character of an address context word */
    F_PROVINCE = 32, /* the first character of a province name */
    F_TOKSEP = 64,   /* a token separator (text.TOKEN's negated class) */
    F_AT = 128,      /* '@' */
    F_ID_WORD = 256, /* the first character of an ID context word written in Chinese */
    F_ID_LATIN = 512, /* the first character of an ID context word written in Latin letters */
};

#define CJK_LO 0x4E00 /* text.CJK: 一-龥 */
#define CJK_HI 0x9FA5
#define HAN_HI 0x9FFF /* address._HAN: 一-鿿 */
#define MIDDLE_DOT 0x00B7

/* ---- characters ---------------------------------------------------------------------- */

/* Unicode White_Space, which the regexes' \s means. */
static int is_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static int in_list(uint32_t c, const uint32_t *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == c) return 1;
    return 0;
}

/* text.TOKEN's separators: \s , ， 、 | ; ； / : ： ( ) （ ） [ ] 【 】 " “ ” ' < > 《 》 ？ ? ！ ! 。 … */
static const uint32_t TOKSEP[] = {',',    0xFF0C, 0x3001, '|',    ';',    0xFF1B, '/',    ':',
                                  0xFF1A, '(',    ')',    0xFF08, 0xFF09, '[',    ']',    0x3010,
                                  0x3011, '"',    0x201C, 0x201D, '\'',   '<',    '>',    0x300A,
                                  0x300B, 0xFF1F, '?',    0xFF01, '!',    0x3002, 0x2026};
/* addr_ctx's stop class: [\s,，。;；|、] */
static const uint32_t ADDR_STOP[] = {',', 0xFF0C, 0x3002, ';', 0xFF1B, '|', 0x3001};

static int ctx_sep(uint32_t c) { return c == ':' || c == 0xFF1A || c == '=' || is_space(c); }
/* id_ctx's separators: [:：=#\s] */
static int id_sep(uint32_t c) { return ctx_sep(c) || c == '#'; }
/* what a Latin ID context word may not follow: [0-9A-Za-z_] */
static int word_char(uint32_t c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
}
static int addr_ctx_char(uint32_t c) {
    return !is_space(c) && !in_list(c, ADDR_STOP, sizeof ADDR_STOP / sizeof *ADDR_STOP);
}
/* address.pattern's body class after folding: [一-鿿0-9A-Za-z\-#*()（）] */
static int addr_char(uint32_t c) {
    return (c >= CJK_LO && c <= HAN_HI) || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z') || c == '-' || c == '#' || c == '*' || c == '(' || c == ')' ||
           c == 0xFF08 || c == 0xFF09;
}

static inline int is_digit(const uc *s, ssz n, ssz i) { return i < n && s[i] >= '0' && s[i] <= '9'; }
static inline int is_digit_star(const uc *s, ssz n, ssz i) { return is_digit(s, n, i) || (i < n && s[i] == '*'); }
static inline int dash(const uc *s, ssz n, ssz i) { return i < n && (s[i] == ' ' || s[i] == '-'); }
static inline int letter(const uc *s, ssz n, ssz i) {
    return i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z');
}
static int lit(const uc *s, ssz n, ssz i, const char *w) {
    size_t k = strlen(w);
    return i + (ssz)k <= n && memcmp(s + i, w, k) == 0;
}
/* k digits from i (with '*' when star): the position after them, or -1 */
static ssz run(const uc *s, ssz n, ssz i, int k, int star) {
    for (int j = 0; j < k; j++)
        if (!(star ? is_digit_star(s, n, i + j) : is_digit(s, n, i + j))) return -1;
    return i + k;
}

/* ---- digits -------------------------------------------------------------------------- */

/* [0-9]{3,4}[ \-]?[0-9]{4} */
static ssz tail34(const uc *s, ssz n, ssz i) {
    for (int k = 4; k >= 3; k--) {
        ssz j = run(s, n, i, k, 0);
        if (j < 0) continue;
        ssz e = dash(s, n, j) ? run(s, n, j + 1, 4, 0) : run(s, n, j, 4, 0);
        if (e >= 0) return e;
    }
    return -1;
}

/* (?:\+86[ \-]?|0086[ \-]?): the position after it, or -1 */
static ssz plus86(const uc *s, ssz n, ssz p) {
    ssz j = lit(s, n, p, "+86") ? p + 3 : lit(s, n, p, "0086") ? p + 4 : -1;
    if (j >= 0 && dash(s, n, j)) j++;
    return j;
}

/* [1-9][0-9]{1,2} followed by what ``then`` needs: the area code of A5 and A6 */
static ssz area_then_dash(const uc *s, ssz n, ssz j) {
    if (!(is_digit(s, n, j) && s[j] != '0')) return -1;
    j++;
    if (!is_digit(s, n, j)) return -1;
    j++;
    if (is_digit(s, n, j)) j++;
    if (!dash(s, n, j)) return -1;
    return tail34(s, n, j + 1);
}

/* text._SPACED_ID: [0-9]{6}[ \-][0-9]{8}[ \-][0-9]{3}[0-9Xx] */
static ssz spaced_id(const uc *s, ssz n, ssz p) {
    ssz j = run(s, n, p, 6, 0);
    if (j >= 0 && dash(s, n, j)) {
        j = run(s, n, j + 1, 8, 0);
        if (j >= 0 && dash(s, n, j)) {
            j = run(s, n, j + 1, 3, 0);
            if (j >= 0 && j < n && (is_digit(s, n, j) || s[j] == 'X' || s[j] == 'x')) return j + 1;
        }
    }
    return -1;
}

/* text._DIGIT_RUN: [0-9][0-9*]*[Xx]? */
static ssz digit_run(const uc *s, ssz n, ssz p) {
    if (!is_digit(s, n, p)) return -1;
    ssz j = p + 1;
    while (is_digit_star(s, n, j)) j++;
    if (j < n && (s[j] == 'X' || s[j] == 'x')) j++;
    return j;
}

/* text.extractors()'s digits pattern at p, its alternatives in order. */
static ssz digits_at(const uc *s, ssz n, ssz p) {
    ssz j, e;
    /* (?:\+86|0086|\+ 86)[ \-]?1[3-9][0-9][ \-]?[0-9*]{4}[ \-]?[0-9]{4} */
    j = lit(s, n, p, "+86") ? p + 3 : lit(s, n, p, "0086") ? p + 4 : lit(s, n, p, "+ 86") ? p + 4 : -1;
    if (j >= 0) {
        if (dash(s, n, j)) j++;
        if (j + 2 < n && s[j] == '1' && s[j + 1] >= '3' && s[j + 1] <= '9' && is_digit(s, n, j + 2)) {
            j += 3;
            if (dash(s, n, j)) j++;
            j = run(s, n, j, 4, 1);
            if (j >= 0) {
                if (dash(s, n, j)) j++;
                e = run(s, n, j, 4, 0);
                if (e >= 0) return e;
            }
        }
    }
    /* 1[3-9][0-9][ \-][0-9*]{4}[ \-][0-9]{4} */
    if (p + 2 < n && s[p] == '1' && s[p + 1] >= '3' && s[p + 1] <= '9' && is_digit(s, n, p + 2) &&
        dash(s, n, p + 3)) {
        j = run(s, n, p + 4, 4, 1);
        if (j >= 0 && dash(s, n, j) && (e = run(s, n, j + 1, 4, 0)) >= 0) return e;
    }
    /* [0-9]{6}[ \-][0-9]{8}[ \-][0-9]{3}[0-9Xx] */
    if ((e = spaced_id(s, n, p)) >= 0) return e;
    /* (?:\+86[ \-]?|0086[ \-]?)?\(0?[1-9][0-9]{1,2}\)[ \-]?[0-9]{3,4}[ \-]?[0-9]{4} */
    j = plus86(s, n, p);
    if (j < 0) j = p;
    if (j < n && s[j] == '(') {
        j++;
        if (j < n && s[j] == '0') j++;
        if (is_digit(s, n, j) && s[j] != '0' && is_digit(s, n, j + 1)) {
            j += 2;
            if (is_digit(s, n, j)) j++;
            if (j < n && s[j] == ')') {
                j++;
                if (dash(s, n, j)) j++;
                if ((e = tail34(s, n, j)) >= 0) return e;
            }
        }
    }
    /* (?:\+86[ \-]?|0086[ \-]?)[1-9][0-9]{1,2}[ \-][0-9]{3,4}[ \-]?[0-9]{4} */
    j = plus86(s, n, p);
    if (j >= 0 && (e = area_then_dash(s, n, j)) >= 0) return e;
    /* 0[1-9][0-9]{1,2}[ \-][0-9]{3,4}[ \-]?[0-9]{4} */
    if (p < n && s[p] == '0' && (e = area_then_dash(s, n, p + 1)) >= 0) return e;
    /* [0-9]{4}(?:[ \-][0-9*]{4}){3}(?:[ \-][0-9]{1,3})? */
    j = run(s, n, p, 4, 0);
    for (int g = 0; g < 3 && j >= 0; g++) j = dash(s, n, j) ? run(s, n, j + 1, 4, 1) : -1;
    if (j >= 0) {
        if (dash(s, n, j) && is_digit(s, n, j + 1)) {
            e = j + 2;
            if (is_digit(s, n, e)) e++;
            if (is_digit(s, n, e)) e++;
            return e;
        }
        return j;
    }
    /* [0-9][0-9*]*[Xx]? */
    return digit_run(s, n, p);
}

/* ---- e-mail, passport, plate --------------------------------------------------------- */

static int mail_local(uc c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '-' || c == '*';
}
static int mail_label(uc c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-';
}

/* email.pattern for the '@' at a, its local part starting no earlier than ``from``:
 * [W._%+\-*]+@[W\-]+(?:\.[W\-]+)*\.[A-Za-z]{2,}. Sets *start; returns the end or -1. */
static ssz email_at(const uc *s, ssz n, ssz a, ssz from, ssz *start) {
    ssz q = a;
    while (q > from && mail_local(s[q - 1])) q--;
    if (q == a) return -1;
    ssz i = a + 1;
    while (i < n && mail_label(s[i])) i++;
    if (i == a + 1) return -1;
    while (i + 1 < n && s[i] == '.' && mail_label(s[i + 1])) {
        i += 2;
        while (i < n && mail_label(s[i])) i++;
    }
    /* the repeated group gives back whole labels until a dot is followed by two letters */
    for (ssz d = i - 1; d > a + 1; d--) {
        if (s[d] != '.') continue;
        ssz e = d + 1;
        while (letter(s, n, e)) e++;
        if (e - d - 1 >= 2) {
            *start = q;
            return e;
        }
    }
    return -1;
}

/* passport.pattern: [EeGg][0-9*]{8}|[Ee][A-Za-z][0-9*]{7}|[DdSsPp][Ee][0-9*]{7} */
static ssz passport_at(const uc *s, ssz n, ssz p) {
    uc c = s[p] | 0x20;
    ssz e;
    if ((c == 'e' || c == 'g') && (e = run(s, n, p + 1, 8, 1)) >= 0) return e;
    if (c == 'e' && letter(s, n, p + 1) && (e = run(s, n, p + 2, 7, 1)) >= 0) return e;
    if ((c == 'd' || c == 's' || c == 'p') && p + 1 < n && (s[p + 1] | 0x20) == 'e' &&
        (e = run(s, n, p + 2, 7, 1)) >= 0)
        return e;
    return -1;
}

static int plate_body(const uc *s, ssz n, ssz i) { return letter(s, n, i) || is_digit_star(s, n, i); }

/* plate.pattern after the province character (at p, ``len`` bytes):
 * [A-Za-z][ ·•・\-]?[A-Za-z0-9*]{4,5}[A-Za-z0-9*SUFFIX] */
static ssz plate_at(const uc *s, ssz n, ssz p, int len, const uint32_t *suffix, size_t n_suffix) {
    ssz j = p + len;
    if (!letter(s, n, j)) return -1;
    j++;
    if (j < n) {
        int l;
        uint32_t c = utf8_at(s, n, j, &l);
        if (c == ' ' || c == '-' || c == MIDDLE_DOT || c == 0x2022 || c == 0x30FB) j += l;
    }
    int r = 0;
    while (r < 6 && plate_body(s, n, j + r)) r++;
    if (r < 4) return -1;
    if (r == 6) return j + 6;
    int l = 0;
    uint32_t c = j + r < n ? utf8_at(s, n, j + r, &l) : 0;
    if (in_list(c, suffix, n_suffix)) return j + r + l; /* {4,5} takes r, then a suffix */
    return r == 5 ? j + 5 : -1;                          /* {4} and the fifth as the last */
}

/* ---- context words and province names ------------------------------------------------ */

typedef struct {
    const uc *s;
    ssz n;
    uint32_t first; /* its first character, folded as first_char() folds */
} Word;

/* A character as (?i) compares it with an ASCII letter: lower case, and ſ and the Kelvin sign
 * as s and k. */
static uint32_t first_char(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c | 0x20;
    if (c == 0x017F) return 's';
    if (c == 0x212A) return 'k';
    return c;
}

typedef struct {
    Word *w;
    Py_ssize_t n;
} Words;

/* A word at s[i] under the regex's (?i): ASCII letters in either case, and the two
 * non-ASCII characters Unicode folds onto ASCII letters (ſ for s, the Kelvin sign for k).
 * Returns the position after it or -1. */
static ssz word_at(const uc *s, ssz n, ssz i, const Word *w, int fold) {
    for (ssz k = 0; k < w->n; k++) {
        uc c = w->s[k];
        if (fold && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            uc lc = c | 0x20;
            if (i < n && (s[i] | 0x20) == lc) {
                i++;
            } else if (lc == 's' && i + 1 < n && s[i] == 0xC5 && s[i + 1] == 0xBF) {
                i += 2;
            } else if (lc == 'k' && i + 2 < n && s[i] == 0xE2 && s[i + 1] == 0x84 && s[i + 2] == 0xAA) {
                i += 3;
            } else {
                return -1;
            }
        } else if (i < n && s[i] == c) {
            i++;
        } else {
            return -1;
        }
    }
    return i;
}

/* The position after characters of class ``cls`` from i, at most ``most`` of them; *count
 * gets how many. */
static ssz chars(const uc *s, ssz n, ssz i, int (*cls)(uint32_t), int most, int *count) {
    int k = 0, l;
    while (k < most && i < n && cls(utf8_at(s, n, i, &l))) {
        i += l;
        k++;
    }
    *count = k;
    return i;
}

/* (?i:WORDS)[:：=\s]*NAME{2,most}, NAME being the CJK ideographs and '·' but those in
 * ``not_name`` (a bitset over the BMP) */
static ssz name_ctx_at(const uc *s, ssz n, ssz p, uint32_t c0, const Words *words,
                       const uc *not_name, int most) {
    for (Py_ssize_t w = 0; w < words->n; w++) {
        if (words->w[w].first != c0) continue;
        ssz j = word_at(s, n, p, &words->w[w], 1);
        if (j < 0) continue;
        int k, l;
        j = chars(s, n, j, ctx_sep, INT32_MAX, &k);
        ssz e = j;
        for (k = 0; k < most && e < n; k++, e += l) {
            uint32_t c = utf8_at(s, n, e, &l);
            int cjk = c >= CJK_LO && c <= CJK_HI && !(not_name[c >> 3] & (1 << (c & 7)));
            if (!cjk && c != MIDDLE_DOT) break;
        }
        if (k >= 2) return e;
    }
    return -1;
}

/* After an ID context word: [:：=#\s]*(?:是|为)?[:：=#\s]*(?:SPACED_ID|DIGIT_RUN). Nothing there
 * is given back: the separators, 是 and 为 are never a value's first character. */
static ssz id_value_at(const uc *s, ssz n, ssz j) {
    int k, l;
    j = chars(s, n, j, id_sep, INT32_MAX, &k);
    if (j < n) {
        uint32_t c = utf8_at(s, n, j, &l);
        if (c == 0x662F || c == 0x4E3A) j = chars(s, n, j + l, id_sep, INT32_MAX, &k);
    }
    ssz e = spaced_id(s, n, j);
    return e >= 0 ? e : digit_run(s, n, j);
}

/* Where a match of a Latin ID word at p starts: (?:^\s*|[^0-9A-Za-z_\s]\s*) before it, from
 * the line's start or from the character before the spaces; -1 when neither is there (the
 * word follows a letter, a digit or '_', or a word and a space: "Order ID" is no ID's label). */
static ssz latin_start(const uc *s, ssz n, ssz p) {
    ssz b = p;
    for (;;) {
        if (b == 0) return 0;
        ssz before = b;
        do before--; while (before > 0 && (s[before] & 0xC0) == 0x80);
        int l;
        uint32_t c = utf8_at(s, n, before, &l);
        if (!is_space(c)) return word_char(c) ? -1 : before;
        b = before;
    }
}

/* One of ``words`` at p (under (?i) when ``fold``) and an ID value after it: the end, or -1. */
static ssz id_words_at(const uc *s, ssz n, ssz p, uint32_t c0, const Words *words, int fold) {
    for (Py_ssize_t w = 0; w < words->n; w++) {
        if (words->w[w].first != c0) continue;
        ssz j = word_at(s, n, p, &words->w[w], fold);
        if (j < 0) continue;
        ssz e = id_value_at(s, n, j);
        if (e >= 0) return e;
    }
    return -1;
}

/* (?i:WORDS)[:：=\s]*[^\s,，。;；|、]{4,80}: the separators give back ':', '：' and '=' (which
 * the value's class holds too) one by one until four value characters follow. */
static ssz addr_ctx_at(const uc *s, ssz n, ssz p, uint32_t c0, const Words *words) {
    for (Py_ssize_t w = 0; w < words->n; w++) {
        if (words->w[w].first != c0) continue;
        ssz j = word_at(s, n, p, &words->w[w], 1);
        if (j < 0) continue;
        int got;
        ssz at = chars(s, n, j, ctx_sep, INT32_MAX, &got);
        for (;;) {
            ssz e = chars(s, n, at, addr_ctx_char, 80, &got);
            if (got >= 4) return e;
            if (at == j) break;
            do at--; while (at > j && (s[at] & 0xC0) == 0x80); /* one character back */
        }
    }
    return -1;
}

/* address.pattern: (?:PROVINCES)[body]{0,60}(?:MARKERS), the body giving back characters
 * until a street-level marker follows. */
static ssz addr_tok_at(const uc *s, ssz n, ssz p, uint32_t c0, const Words *provinces,
                       const Words *markers, const uc *marker_first) {
    for (Py_ssize_t w = 0; w < provinces->n; w++) {
        if (provinces->w[w].first != c0) continue;
        ssz j = word_at(s, n, p, &provinces->w[w], 0);
        if (j < 0) continue;
        ssz at[61];
        int k = 0, l;
        at[0] = j;
        while (k < 60 && at[k] < n && addr_char(utf8_at(s, n, at[k], &l))) {
            at[k + 1] = at[k] + l;
            k++;
        }
        for (; k >= 0; k--) {
            uint32_t c = at[k] < n ? utf8_at(s, n, at[k], &l) : 0;
            if (c >= 0x10000 || !(marker_first[c >> 3] & (1 << (c & 7)))) continue;
            for (Py_ssize_t m = 0; m < markers->n; m++) {
                ssz e = word_at(s, n, at[k], &markers->w[m], 0);
                if (e >= 0) return e;
            }
        }
    }
    return -1;
}

/* text._NAME_TOKEN: ^(?:[CJK]{2,5}|[CJK]+(?:·[CJK]+)+)$ */
static int name_token(const uc *s, ssz n) {
    int chars_ = 0, dots = 0, run_ = 0, l;
    for (ssz i = 0; i < n; i += l) {
        uint32_t c = utf8_at(s, n, i, &l);
        if (c >= CJK_LO && c <= CJK_HI) {
            chars_++;
            run_++;
        } else if (c == MIDDLE_DOT && run_ > 0) {
            dots++;
            run_ = 0;
        } else {
            return 0;
        }
    }
    if (run_ == 0) return 0;
    return dots ? 1 : (chars_ >= 2 && chars_ <= 5);
}

/* ---- output -------------------------------------------------------------------------- */

typedef struct {
    int64_t *rows, *starts, *offsets; /* value index, character offset in it, Arrow offsets */
    uc *data;
    ssz n, cap, size, data_cap;
} Out;

static int out_add(Out *o, int64_t row, int64_t start, const uc *s, ssz len) {
    if (o->n + 2 > o->cap) {
        ssz cap = o->cap ? o->cap * 2 : 1024;
        int64_t *r = realloc(o->rows, cap * sizeof *r);
        if (r == NULL) return -1;
        o->rows = r;
        r = realloc(o->starts, cap * sizeof *r);
        if (r == NULL) return -1;
        o->starts = r;
        int64_t *f = realloc(o->offsets, (cap + 1) * sizeof *f);
        if (f == NULL) return -1;
        o->offsets = f;
        if (o->cap == 0) o->offsets[0] = 0;
        o->cap = cap;
    }
    if (o->size + len > o->data_cap) {
        ssz cap = o->data_cap ? o->data_cap * 2 : 16384;
        while (cap < o->size + len) cap *= 2;
        uc *d = realloc(o->data, cap);
        if (d == NULL) return -1;
        o->data = d;
        o->data_cap = cap;
    }
    memcpy(o->data + o->size, s, len);
    o->size += len;
    o->rows[o->n] = row;
    o->starts[o->n] = start;
    o->offsets[++o->n] = o->size;
    return 0;
}

static void out_free(Out *o) {
    free(o->rows);
    free(o->starts);
    free(o->offsets);
    free(o->data);
}

static PyObject *out_tuple(const Out *o) {
    static const int64_t zero = 0;
    return Py_BuildValue("(y#y#y#y#)", o->n ? (const char *)o->rows : "", o->n * 8,
                         o->n ? (const char *)o->starts : "", o->n * 8,
                         o->n ? (const char *)o->offsets : (const char *)&zero, (o->n + 1) * 8,
                         o->n ? (const char *)o->data : "", o->size);
}

/* ---- the pass ------------------------------------------------------------------------ */

typedef struct {
    Words name_words, addr_words, id_words, id_latin, provinces, markers;
    uint32_t *plate_suffix;
    size_t n_plate_suffix;
    ssz min_digits;
    uint16_t *flags;  /* per BMP code point */
    uc not_name[0x2000]; /* bitset over the BMP: ideographs a name after a context word lacks */
    uc marker_first[0x2000]; /* bitset over the BMP: first characters of street markers */
    int name_most;    /* characters such a name may have */
    int starts;       /* whether the character offsets of matches are wanted */
    uint32_t *fold;   /* per BMP code point: its half-width form, or 0 */
    uc fold_lead[256]; /* first bytes of the characters that fold */
} Spec;

/* The line as text.fold_text has it: full-width forms to half width (a character for a
 * character), then each "--" to two spaces. Returns the folded line (``s`` itself when nothing
 * changes) and its length in *m, or NULL when memory ran out. */
static const uc *fold_line(const Spec *sp, const uc *s, ssz n, ssz *m, uc **buf, ssz *cap) {
    int needed = 0;
    for (ssz i = 0; i < n && !needed; i++)
        needed = sp->fold_lead[s[i]] || (s[i] == '-' && i + 1 < n && s[i + 1] == '-');
    *m = n;
    if (!needed) return s;
    if (*cap < n) {
        uc *b = realloc(*buf, n);
        if (b == NULL) return NULL;
        *buf = b;
        *cap = n;
    }
    uc *o = *buf;
    ssz k = 0;
    int l;
    for (ssz i = 0; i < n; i += l) {
        uint32_t c = utf8_at(s, n, i, &l);
        uint32_t to = c < 0x10000 ? sp->fold[c] : 0;
        if (to == 0) {
            memcpy(o + k, s + i, l);
            k += l;
        } else if (to < 0x80) {
            o[k++] = (uc)to;
        } else if (to < 0x800) {
            o[k++] = 0xC0 | (to >> 6);
            o[k++] = 0x80 | (to & 0x3F);
        } else {
            o[k++] = 0xE0 | (to >> 12);
            o[k++] = 0x80 | ((to >> 6) & 0x3F);
            o[k++] = 0x80 | (to & 0x3F);
        }
    }
    for (ssz i = 0; i + 1 < k; i++)
        if (o[i] == '-' && o[i + 1] == '-') {
            o[i] = o[i + 1] = ' ';
            i++;
        }
    *m = k;
    return o;
}

/* The character offset of byte x, counted from the last one asked for (*at, *chars): matches
 * come in nearly increasing order, so each line is counted about once. */
static ssz char_offset(const uc *s, ssz x, ssz *at, ssz *chars) {
    for (; *at < x; (*at)++) *chars += (s[*at] & 0xC0) != 0x80;
    for (; *at > x; (*at)--) *chars -= (s[*at - 1] & 0xC0) != 0x80;
    return *chars;
}

/* One line: every extractor's matches, appended to out[]. Returns -1 when memory ran out. */
static int scan_line(const Spec *sp, const uc *s, ssz n, int64_t row, Out *out) {
    ssz next[X_N] = {0};
    ssz tok = 0, at = 0, chars = 0;
    int l;
    for (ssz p = 0; p <= n; p += l) {
        uint32_t c;
        uint16_t f;
        if (p == n) {
            c = 0;
            f = F_TOKSEP;
            l = 1;
        } else {
            c = utf8_at(s, n, p, &l);
            f = c < 0x10000 ? sp->flags[c] : 0;
        }
        if (f & F_TOKSEP) {
            if (p > tok && name_token(s + tok, p - tok) &&
                out_add(&out[X_NAME_TOK], row, (sp->starts ? char_offset(s, tok, &at, &chars) : 0), s + tok, p - tok) < 0)
                return -1;
            tok = p + l;
        }
        if (p == n || f == 0 || f == F_TOKSEP) continue;
        ssz e, start;
#define EMIT(x, a, b)                                                                     \
    do {                                                                                  \
        if (out_add(&out[x], row, (sp->starts ? char_offset(s, a, &at, &chars) : 0), s + (a), (b) - (a)) < 0) \
            return -1;                                                                    \
        next[x] = (b);                                                                    \
    } while (0)
        /* id_ctx: (?:ID_WORDS|(?:^\s*|[^0-9A-Za-z_\s]\s*)(?i:ID_LATIN))SEP VALUE. A Chinese word
         * matches where it starts; a Latin one from the line's start or from the character
         * before the spaces before it (which the regex tries after the Chinese words there). */
        if ((f & F_ID_WORD) && p >= next[X_ID_CTX] &&
            (e = id_words_at(s, n, p, c, &sp->id_words, 0)) >= 0)
            EMIT(X_ID_CTX, p, e);
        if ((f & F_ID_LATIN) && (start = latin_start(s, n, p)) >= next[X_ID_CTX] &&
            (e = id_words_at(s, n, p, first_char(c), &sp->id_latin, 1)) >= 0)
            EMIT(X_ID_CTX, start, e);
        if ((f & F_DIGIT) && p >= next[X_DIGITS] && (e = digits_at(s, n, p)) >= 0) {
            if (e - p >= sp->min_digits) EMIT(X_DIGITS, p, e);
            next[X_DIGITS] = e;
        }
        if ((f & F_AT) && p >= next[X_EMAIL] && (e = email_at(s, n, p, next[X_EMAIL], &start)) >= 0)
            EMIT(X_EMAIL, start, e);
        if ((f & F_PASSPORT) && p >= next[X_PASSPORT] && (e = passport_at(s, n, p)) >= 0)
            EMIT(X_PASSPORT, p, e);
        if ((f & F_PLATE) && p >= next[X_PLATE] &&
            (e = plate_at(s, n, p, l, sp->plate_suffix, sp->n_plate_suffix)) >= 0)
            EMIT(X_PLATE, p, e);
        if ((f & F_NAME_CTX) && p >= next[X_NAME_CTX] &&
            (e = name_ctx_at(s, n, p, first_char(c), &sp->name_words, sp->not_name, sp->name_most)) >= 0)
            EMIT(X_NAME_CTX, p, e);
        if ((f & F_ADDR_CTX) && p >= next[X_ADDR_CTX] && (e = addr_ctx_at(s, n, p, first_char(c), &sp->addr_words)) >= 0)
            EMIT(X_ADDR_CTX, p, e);
        if ((f & F_PROVINCE) && p >= next[X_ADDR_TOK] &&
            (e = addr_tok_at(s, n, p, c, &sp->provinces, &sp->markers, sp->marker_first)) >= 0)
            EMIT(X_ADDR_TOK, p, e);
#undef EMIT
    }
    return 0;
}

/* Words from a tuple of str (UTF-8 kept alive by the tuple). */
static int words_parse(PyObject *tuple, Words *out, const char *what) {
    if (!PyTuple_Check(tuple)) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple of str", what);
        return -1;
    }
    out->n = PyTuple_GET_SIZE(tuple);
    out->w = calloc(out->n ? out->n : 1, sizeof *out->w);
    if (out->w == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < out->n; i++) {
        PyObject *item = PyTuple_GET_ITEM(tuple, i);
        const char *u = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &out->w[i].n) : NULL;
        if (u == NULL || out->w[i].n == 0) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "%s holds an empty or non-str item", what);
            return -1;
        }
        out->w[i].s = (const uc *)u;
        int l;
        out->w[i].first = first_char(utf8_at(out->w[i].s, out->w[i].n, 0, &l));
    }
    return 0;
}

static void mark_first(uint16_t *flags, const Words *words, uint16_t bit, int fold) {
    for (Py_ssize_t i = 0; i < words->n; i++) {
        int l;
        uint32_t c = utf8_at(words->w[i].s, words->w[i].n, 0, &l);
        if (c < 0x10000) flags[c] |= bit;
        if (fold && (c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
            flags[c | 0x20] |= bit;
            flags[c & ~0x20u] |= bit;
            if ((c | 0x20) == 's') flags[0x017F] |= bit;
            if ((c | 0x20) == 'k') flags[0x212A] |= bit;
        }
    }
}

/* Code points of a str, as a malloc'd array. */
static uint32_t *code_points(PyObject *str, size_t *n, const char *what) {
    if (!PyUnicode_Check(str)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str", what);
        return NULL;
    }
    *n = (size_t)PyUnicode_GET_LENGTH(str);
    uint32_t *out = malloc((*n ? *n : 1) * sizeof *out);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) out[i] = PyUnicode_READ_CHAR(str, i);
    return out;
}

static void spec_free(Spec *sp) {
    free(sp->name_words.w);
    free(sp->addr_words.w);
    free(sp->id_words.w);
    free(sp->id_latin.w);
    free(sp->provinces.w);
    free(sp->markers.w);
    free(sp->plate_suffix);
    free(sp->flags);
    free(sp->fold);
}

/* Args 6..19: name words, address words, ID context words in Chinese and in Latin letters,
 * province names, street markers (tuples of str, in the regexes' alternation order), plate provinces, plate suffixes (str), shortest digits,
 * the width folding as two str of equal length (each character to the one below it), the
 * ideographs a name after a context word lacks (str), how long that name may be, and whether
 * each match's character offset is wanted (0 is given otherwise). */
static int spec_parse(PyObject *const *args, Spec *sp) {
    memset(sp, 0, sizeof *sp);
    if (words_parse(args[6], &sp->name_words, "name words") < 0 ||
        words_parse(args[7], &sp->addr_words, "address words") < 0 ||
        words_parse(args[8], &sp->id_words, "ID words") < 0 ||
        words_parse(args[9], &sp->id_latin, "Latin ID words") < 0 ||
        words_parse(args[10], &sp->provinces, "provinces") < 0 ||
        words_parse(args[11], &sp->markers, "markers") < 0)
        return -1;
    size_t n_plate;
    uint32_t *plate = code_points(args[12], &n_plate, "plate provinces");
    if (plate == NULL) return -1;
    sp->plate_suffix = code_points(args[13], &sp->n_plate_suffix, "plate suffixes");
    sp->min_digits = PyLong_AsSsize_t(args[14]);
    sp->flags = calloc(0x10000, sizeof *sp->flags);
    if (sp->plate_suffix == NULL || PyErr_Occurred() || sp->flags == NULL) {
        free(plate);
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    uint16_t *f = sp->flags;
    for (int c = '0'; c <= '9'; c++) f[c] |= F_DIGIT;
    f['+'] |= F_DIGIT;
    f['('] |= F_DIGIT;
    for (const char *c = "EeGgDdSsPp"; *c; c++) f[(uc)*c] |= F_PASSPORT;
    for (size_t i = 0; i < n_plate; i++)
        if (plate[i] < 0x10000) f[plate[i]] |= F_PLATE;
    free(plate);
    mark_first(f, &sp->name_words, F_NAME_CTX, 1);
    mark_first(f, &sp->addr_words, F_ADDR_CTX, 1);
    mark_first(f, &sp->id_words, F_ID_WORD, 0);
    mark_first(f, &sp->id_latin, F_ID_LATIN, 1);
    mark_first(f, &sp->provinces, F_PROVINCE, 0);
    for (Py_ssize_t i = 0; i < sp->markers.n; i++) {
        int l;
        uint32_t c = utf8_at(sp->markers.w[i].s, sp->markers.w[i].n, 0, &l);
        if (c < 0x10000) sp->marker_first[c >> 3] |= 1 << (c & 7);
    }
    size_t n_src, n_dst;
    uint32_t *src = code_points(args[15], &n_src, "fold sources");
    uint32_t *dst = src ? code_points(args[16], &n_dst, "fold targets") : NULL;
    sp->fold = calloc(0x10000, sizeof *sp->fold);
    if (src == NULL || dst == NULL || sp->fold == NULL || n_src != n_dst) {
        free(src);
        free(dst);
        if (!PyErr_Occurred()) {
            if (sp->fold == NULL) PyErr_NoMemory();
            else PyErr_SetString(PyExc_ValueError, "fold sources and targets differ in length");
        }
        return -1;
    }
    for (size_t i = 0; i < n_src; i++) {
        if (src[i] < 0x80 || src[i] >= 0x10000 || dst[i] == 0 || dst[i] >= 0x10000 ||
            (dst[i] >= 0x80 && src[i] < 0x800)) { /* a fold never lengthens a character */
            free(src);
            free(dst);
            PyErr_SetString(PyExc_ValueError, "a fold must map a non-ASCII BMP character to a no longer one");
            return -1;
        }
        sp->fold[src[i]] = dst[i];
        sp->fold_lead[src[i] < 0x800 ? 0xC0 | (src[i] >> 6) : 0xE0 | (src[i] >> 12)] = 1;
    }
    free(src);
    free(dst);
    for (uint32_t c = 0; c < 0x10000; c++)
        if (is_space(c)) f[c] |= F_TOKSEP;
    for (size_t i = 0; i < sizeof TOKSEP / sizeof *TOKSEP; i++) f[TOKSEP[i]] |= F_TOKSEP;
    f['@'] |= F_AT;
    size_t n_not;
    uint32_t *not_name = code_points(args[17], &n_not, "not-name characters");
    if (not_name == NULL) return -1;
    for (size_t i = 0; i < n_not; i++)
        if (not_name[i] < 0x10000) sp->not_name[not_name[i] >> 3] |= 1 << (not_name[i] & 7);
    free(not_name);
    sp->name_most = (int)PyLong_AsLong(args[18]);
    if (PyErr_Occurred()) return -1;
    if (sp->name_most < 2) {
        PyErr_SetString(PyExc_ValueError, "a name may not be shorter than two characters");
        return -1;
    }
    sp->starts = PyObject_IsTrue(args[19]);
    if (sp->starts < 0) return -1;
    return 0;
}

static PyObject *extract(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 20) {
        PyErr_SetString(PyExc_TypeError,
                        "extract(offsets, data, validity, offset, length, wide, name_words, "
                        "address_words, id_words, id_latin, provinces, markers, plate_provinces, "
                        "plate_suffixes, "
                        "min_digits, fold_from, fold_to, not_name, name_most, starts)");
        return NULL;
    }
    Spec sp;
    if (spec_parse(args, &sp) < 0) {
        spec_free(&sp);
        return NULL;
    }
    Column c;
    if (column_parse(args, &c) < 0) {
        spec_free(&sp);
        return NULL;
    }
    Out out[X_N];
    memset(out, 0, sizeof out);
    int status = 0; /* 0 ok, 1 bad offsets, 2 no memory */
    uc *buf = NULL;
    ssz cap = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < c.length && status == 0; i++) {
        const uc *s;
        ssz n;
        if (!column_value(&c, i, &s, &n)) {
            status = 1;
        } else if (s != NULL && n > 0) {
            s = fold_line(&sp, s, n, &n, &buf, &cap);
            if (s == NULL || scan_line(&sp, s, n, i, out) < 0) status = 2;
        }
    }
    Py_END_ALLOW_THREADS
    free(buf);
    column_release(&c);
    spec_free(&sp);
    PyObject *result = NULL;
    if (status == 1) {
        PyErr_SetString(PyExc_ValueError, "an offset points outside the data buffer");
    } else if (status == 2) {
        PyErr_NoMemory();
    } else if ((result = PyList_New(X_N)) != NULL) {
        for (int x = 0; x < X_N; x++) {
            PyObject *t = out_tuple(&out[x]);
            if (t == NULL) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, x, t);
        }
    }
    for (int x = 0; x < X_N; x++) out_free(&out[x]);
    return result;
}

static PyMethodDef methods[] = {
    {"extract", (PyCFunction)(void (*)(void))extract, METH_FASTCALL,
     "Every extractor's candidates in each value: a list of (rows, starts, offsets, data)\n"
     "buffers (value index and character offset of each, then the Arrow strings)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_extract",
    "Free-text candidate extraction over whole Arrow string columns, in one pass.", -1, methods,
};

PyMODINIT_FUNC PyInit__extract(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    PyObject *names = PyTuple_New(X_N);
    if (names == NULL) goto bad;
    for (int x = 0; x < X_N; x++) {
        PyObject *s = PyUnicode_FromString(NAMES[x]);
        if (s == NULL) {
            Py_DECREF(names);
            goto bad;
        }
        PyTuple_SET_ITEM(names, x, s);
    }
    if (PyModule_AddObject(m, "EXTRACTORS", names) < 0) {
        Py_DECREF(names);
        goto bad;
    }
    return m;
bad:
    Py_DECREF(m);
    return NULL;
}
