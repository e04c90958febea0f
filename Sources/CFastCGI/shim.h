#ifndef CFASTCGI_SHIM_H
#define CFASTCGI_SHIM_H
/* The reentrant FCGX_* API only; fcgi_stdio.h redefines stdio and is never included. */
#include <fcgiapp.h>
/* The protocol's record types and flags, for Shoal's own connection loop. */
#include <fastcgi.h>

/* accept4 is a GNU extension that Swift's Glibc module does not export; it returns a connection
 * already non-blocking and close-on-exec, saving three fcntl calls per request. */
struct sockaddr;
extern int accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);
/* Also GNU-only (glibc 2.30+): the thread a timer signal is aimed at (SIGEV_THREAD_ID). */
extern int gettid(void);
#endif
