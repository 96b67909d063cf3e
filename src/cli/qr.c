/* `riftgate invite --qr`: the token as a QR code on the terminal, for a phone's camera. Two
 * module rows per text line with half blocks; light modules are drawn (a dark terminal shows
 * dark-on-light, as scanners expect), with the quiet zone of 4 modules around the symbol that
 * ISO/IEC 18004 asks for. Built only with libqrencode (RG_HAVE_QRENCODE). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"

#ifdef RG_HAVE_QRENCODE
#include <qrencode.h>

enum { QR_QUIET_MODULES = 4 };

/* Light (true) outside the symbol, else the module's colour (bit 0 set = dark). */
static bool light(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return true;
	return !(q->data[y * q->width + x] & 1);
}

int cli_qr_print(FILE *f, const char *text)
{
	/* index: top light << 1 | bottom light */
	static const char *const cell[4] = { " ", "\u2584", "\u2580", "\u2588" };
	QRcode *q;
	int lo, hi;

	/* Level M: survives a smudged or angled screen; the token still fits in version 40. */
	q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return -(errno ? errno : EINVAL);
	lo = -QR_QUIET_MODULES;
	hi = q->width + QR_QUIET_MODULES;
	for (int y = lo; y < hi; y += 2) {
		for (int x = lo; x < hi; x++)
			fputs(cell[light(q, x, y) << 1 | (y + 1 < hi ? light(q, x, y + 1) : 1)], f);
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}
#else
int cli_qr_print(FILE *f, const char *text)
{
	(void)f;
	(void)text;
	return -ENOTSUP;
}
#endif
