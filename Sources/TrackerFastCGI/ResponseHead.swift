import TrackerCore

/// The CGI response header block: `Status`, `Content-Type`, `Content-Length` and any others.
public enum ResponseHead {
    /// Appends the header lines of `response` and the blank line that ends them.
    public static func append(_ response: TrackerResponse, to out: inout [UInt8]) {
        out += "Status: ".utf8
        out += String(response.status).utf8
        out.append(UInt8(ascii: " "))
        out += reason(response.status).utf8
        out += "\r\nContent-Type: ".utf8
        out += response.contentType.utf8
        out += "\r\nContent-Length: ".utf8
        out += String(response.body.count).utf8
        for header in response.headers {
            out += "\r\n".utf8
            out += header.name.utf8
            out += ": ".utf8
            out += header.value.utf8
        }
        out += "\r\n\r\n".utf8
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
