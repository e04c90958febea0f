#ifndef CFASTCGI_SHIM_H
#define CFASTCGI_SHIM_H
/* The reentrant FCGX_* API only; fcgi_stdio.h redefines stdio and is never included. */
#include <fcgiapp.h>
/* The protocol's record types and flags, for Shoal's own connection loop. */
#include <fastcgi.h>
#endif
