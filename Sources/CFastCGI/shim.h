#ifndef CFASTCGI_SHIM_H
#define CFASTCGI_SHIM_H
/* The reentrant FCGX_* API only; fcgi_stdio.h redefines stdio and is never included. */
#include <fcgiapp.h>
#endif
