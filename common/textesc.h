/* textesc.h — how text from the watched program is shown on a terminal,
 * and the UTF-8 check behind it.
 *
 * Thread names, Python file and function names, paths and messages come
 * from the program and may hold anything.  The runtime's live reports
 * (stderr) and the command's text report both print such text through
 * fsan_text_escape(), so that what reaches the terminal is exactly what the
 * reader sees and never drives the terminal.  The scheme, documented in
 * forksan(1) under OUTPUT:
 *   \\  a backslash;  \"  a double quote, when the text is printed between
 *   double quotes;  \n \t \r  those controls;  \xHH  any other C0 control,
 *   DEL, and each byte that is not part of well-formed UTF-8;  \uHHHH  a C1
 *   control (U+0080 to U+009F) or a bidirectional override or isolate
 *   (U+202A to U+202E, U+2066 to U+2069), which could make a line read in
 *   another order than its bytes.
 * Every other character, ASCII or well-formed UTF-8, passes as it is.
 *
 * Everything here is static inline, calls nothing and touches only its
 * arguments: it is async-signal-safe, so the runtime may use it in a fork
 * child or a signal handler.  The JSON writer uses the UTF-8 check as well.
 */
#ifndef FSAN_TEXTESC_H
#define FSAN_TEXTESC_H

#include <stddef.h>
#include <stdint.h>

/* For a lead byte, the length of its sequence and the range its second byte
 * must fall in (Unicode Table 3-7).  The narrowed ranges after E0, ED, F0
 * and F4 exclude overlong forms, UTF-16 surrogates and code points above
 * U+10FFFF.  Returns 0 for a byte that can never start a sequence. */
static inline size_t fsan_utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c == 0xE0)
        *lo = 0xA0;
    if (c == 0xED)
        *hi = 0x9F;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c == 0xF0)
        *lo = 0x90;
    if (c == 0xF4)
        *hi = 0x8F;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Checks the multi-byte sequence at s (s[0] >= 0x80, n bytes available; a
 * NUL ends it early, so a NUL-terminated string may pass n = 4).  Returns
 * its length when it is well formed.  Otherwise returns 0 and sets *bad to
 * the length of its maximal subpart, the bytes one U+FFFD replaces (always
 * at least 1, so the caller makes progress). */
static inline size_t fsan_utf8_sequence(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char lo, hi;
    size_t need = fsan_utf8_lead(s[0], &lo, &hi);

    *bad = 1;
    if (need == 0)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need;
}

/* The longest text one step writes is six bytes ("\\u202e"). */
#define FSAN_TEXT_ESC_MAX 8

/* One step of the scheme above over the n bytes of text at p (n >= 1):
 * writes what stands for the next character into out (at most
 * FSAN_TEXT_ESC_MAX bytes), sets *outlen, and returns how many bytes of p
 * it consumed (at least 1, at most n). */
static inline size_t fsan_text_escape(const unsigned char *p, size_t n, int quoted, char *out, size_t *outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t used, bad;
    uint32_t c = *p;

    used = c >= 0x80 ? fsan_utf8_sequence(p, n, &bad) : 0;
    if (used > 0) {
        c = p[0] & (0x7f >> used);
        for (size_t i = 1; i < used; i++)
            c = c << 6 | (p[i] & 0x3f);
        if ((c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
            out[0] = '\\', out[1] = 'u';
            for (int i = 0; i < 4; i++)
                out[2 + i] = hex[(c >> (12 - 4 * i)) & 0xf];
            *outlen = 6;
        } else {
            for (size_t i = 0; i < used; i++)
                out[i] = (char)p[i];
            *outlen = used;
        }
        return used;
    }
    if (c == '\\' || (quoted && c == '"')) {
        out[0] = '\\', out[1] = (char)c, *outlen = 2;
    } else if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c, *outlen = 1;
    } else if (c == '\n' || c == '\t' || c == '\r') {
        out[0] = '\\', out[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r', *outlen = 2;
    } else { /* C0, DEL, or one byte of a broken sequence */
        out[0] = '\\', out[1] = 'x', out[2] = hex[c >> 4], out[3] = hex[c & 0xf], *outlen = 4;
    }
    return 1;
}

#endif
