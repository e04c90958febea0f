import TrackerCore

/// Turns the CGI variables a web server passes (over FastCGI or in the environment) into a
/// `TrackerRequest`. The same code serves every way Shoal runs.
public enum CGIVariables {
    /// The path is `SCRIPT_NAME` + `PATH_INFO` when either is set (Apache `ScriptAlias
    /// /tracker` + `/announce`; nginx's `fastcgi_params` puts the whole path in SCRIPT_NAME),
    /// else `DOCUMENT_URI`, else `REQUEST_URI` up to its `?`. `forwardedHeader` names the CGI
    /// variable of the header trusted proxies name the client in, when any proxy is trusted.
    public static func trackerRequest(forwardedHeader: String? = nil, _ variable: (String) -> [UInt8]?) -> TrackerRequest {
        var path: [UInt8]
        let scriptName = variable("SCRIPT_NAME")
        let pathInfo = variable("PATH_INFO")
        if scriptName?.isEmpty == false || pathInfo?.isEmpty == false {
            path = (scriptName ?? []) + (pathInfo ?? [])
        } else if let documentURI = variable("DOCUMENT_URI"), !documentURI.isEmpty {
            path = documentURI
        } else {
            let requestURI = variable("REQUEST_URI") ?? []
            path = Array(requestURI.prefix { $0 != UInt8(ascii: "?") })
        }
        let remote = variable("REMOTE_ADDR")
        return TrackerRequest(
            path: path, query: variable("QUERY_STRING") ?? [], remoteAddress: remote?.isEmpty == false ? remote : nil,
            forwardedHeader: forwardedHeader.flatMap(variable))
    }

    /// The full CGI response: header block then body.
    public static func responseBytes(_ response: TrackerResponse) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(response.body.count + 96)
        ResponseHead.append(response, to: &out)
        out += response.body
        return out
    }
}
