/* The bare nginx + FastCGI ceiling: a libfcgi responder that answers every request with one
 * fixed, valid announce reply and does nothing else. Whatever Shoal costs above this is Shoal. */
#include <fcgiapp.h>
#include <string.h>

static const char reply[] =
    "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 98\r\n\r\n"
    "d8:completei1e10:downloadedi0e10:incompletei1e8:intervali1800e12:min intervali900e5:peers6:\x7f\x00\x00\x01\x1a\xe1" "e";

int main(void) {
    FCGX_Request request;
    FCGX_Init();
    FCGX_InitRequest(&request, 0, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(reply, sizeof reply - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
