/// The CGI response header block: `Status`, `Content-Type` and `Content-Length`.
public enum ResponseHead {
    /// Appends the header lines and the blank line that ends them.
    public static func append(status: Int, contentLength: Int, to out: inout [UInt8]) {
        out += "Status: ".utf8
        out += String(status).utf8
        out.append(UInt8(ascii: " "))
        out += reason(status).utf8
        out += "\r\nContent-Type: text/plain\r\nContent-Length: ".utf8
        out += String(contentLength).utf8
        out += "\r\n\r\n".utf8
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
