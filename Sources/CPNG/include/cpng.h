#ifndef CPNG_H
#define CPNG_H
/* Placeholder: libpng shim with setjmp/longjmp error handling. */
int cpng_version_number(void);
#endif
