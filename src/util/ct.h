/* Constant-time helpers for secrets (STYLE §11). Freestanding: the hub core uses them in wasm32. */
#ifndef RG_UTIL_CT_H
#define RG_UTIL_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when a and b (len bytes each) are equal; time depends on len only. */
static inline bool rg_ct_eq(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

/* True when all len bytes are zero; time depends on len only. */
static inline bool rg_ct_is_zero(const void *a, size_t len)
{
	const volatile uint8_t *x = a;
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= x[i];
	return acc == 0;
}

/* Wipes memory in a way the compiler may not elide (explicit_bzero in hosted builds). */
void rg_memzero(void *p, size_t len);

#endif
