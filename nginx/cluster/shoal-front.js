// The cluster front's njs (libnginx-mod-http-js): scrapes of several hashes, split by host and
// merged. (Announces and one-hash scrapes never come here: front.conf computes their key with
// set-misc, natively.)
//
// Each hash's part carries its key as the `shoal_shard` argument: the info_hash decoded to its
// 20 bytes (%XX, and + for a space, Shoal's rules) as lowercase hex, the same string front.conf's
// set_unescape_uri + set_encode_hex make, so the same ring sends it to the same host.

// Shoal's own default max-scrape-hashes.
var MAX_SCRAPE_HASHES = 64;

function decodedHex(raw) {
    var out = '';
    for (var i = 0; i < raw.length; i++) {
        var c = raw.charCodeAt(i);
        if (c === 37 && i + 2 < raw.length && /^[0-9A-Fa-f]{2}$/.test(raw.substr(i + 1, 2))) {
            out += raw.substr(i + 1, 2).toLowerCase();
            i += 2;
        } else if (c === 43) {
            out += '20';
        } else {
            out += (c < 16 ? '0' : '') + c.toString(16);
        }
    }
    return out;
}

// Every info_hash argument of the query, undecoded, in order.
function infoHashArgs(query) {
    var found = [];
    var pairs = (query || '').split('&');
    for (var i = 0; i < pairs.length; i++) {
        var eq = pairs[i].indexOf('=');
        if (eq > 0 && pairs[i].substr(0, eq) === 'info_hash') found.push(pairs[i].substr(eq + 1));
    }
    return found;
}

// Skips one bencoded value starting at `at` in `b` (a Buffer); returns where it ends.
function skip(b, at) {
    var c = b[at];
    if (c === 0x69) return b.indexOf(0x65, at) + 1;  // i…e
    if (c === 0x6c || c === 0x64) {                    // l…e, d…e
        at++;
        while (b[at] !== 0x65) at = skip(b, at);
        return at + 1;
    }
    var colon = b.indexOf(0x3a, at);
    return colon + 1 + Number(b.slice(at, colon).toString());
}

// The raw `files` entries of one scrape reply: [[keyBytes, entryBytes], …]; null if it has none.
function filesEntries(b) {
    if (b[0] !== 0x64) return null;
    var at = 1;
    while (at < b.length && b[at] !== 0x65) {
        var keyEnd = skip(b, at);
        var key = b.slice(b.indexOf(0x3a, at) + 1, keyEnd).toString();
        var valueEnd = skip(b, keyEnd);
        if (key === 'files') {
            var entries = [];
            var e = keyEnd + 1;
            while (b[e] !== 0x65) {
                var k = skip(b, e);
                var v = skip(b, k);
                entries.push([b.slice(e, k), b.slice(e, v)]);
                e = v;
            }
            return entries;
        }
        at = valueEnd;
    }
    return null;
}

// js_content for a scrape of several hashes (front.conf rewrites it to /shoal_merged_scrape +
// its path): each hash is asked of its own host (one subrequest each, keyed by the `shoal_shard`
// argument) and the `files` entries are merged in key order.
async function scrape(r) {
    var uri = r.uri.replace(/^\/shoal_merged_scrape/, '');
    var hashes = infoHashArgs(r.variables.args);
    var others = (r.variables.args || '').split('&').filter(function (p) { return p.indexOf('info_hash=') !== 0; });
    if (hashes.length > MAX_SCRAPE_HASHES) {  // each is a subrequest: bound them, as Shoal does
        r.headersOut['Content-Type'] = 'text/plain';
        r.return(200, 'd14:failure reason38:too many info_hash values (at most ' + MAX_SCRAPE_HASHES + ')e');
        return;
    }
    var replies = await Promise.all(hashes.map(function (h) {
        var args = others.concat(['info_hash=' + h, 'shoal_shard=' + decodedHex(h)]);
        return r.subrequest('/shoal_shard' + uri, { args: args.join('&') });
    }));
    var entries = [];
    var interval = null;
    for (var i = 0; i < replies.length; i++) {
        var body = replies[i].responseBuffer;
        if (replies[i].status !== 200 || !body) {
            r.return(503, 'd14:failure reason41:a tracker host is unavailable, retry latere');
            return;
        }
        var found = filesEntries(body);
        if (found === null) {  // a refusal (too many hashes, …): the first one speaks for all
            r.headersOut['Content-Type'] = 'text/plain';
            r.return(200, body);
            return;
        }
        entries = entries.concat(found);
        if (interval === null) {
            var label = '20:min_request_intervali';
            var at = body.indexOf(label);
            interval = at < 0 ? '' : body.slice(at + label.length, body.indexOf(0x65, at + label.length)).toString();
        }
    }
    entries.sort(function (a, b) { return Buffer.compare(a[0], b[0]); });
    var seen = {};
    var parts = [Buffer.from('d5:filesd')];
    for (var j = 0; j < entries.length; j++) {
        var id = entries[j][0].toString('hex');
        if (seen[id]) continue;  // the same torrent asked twice
        seen[id] = true;
        parts.push(entries[j][1]);
    }
    parts.push(Buffer.from('e'));
    if (interval) parts.push(Buffer.from('5:flagsd20:min_request_intervali' + interval + 'ee'));
    parts.push(Buffer.from('e'));
    r.headersOut['Content-Type'] = 'text/plain';
    r.return(200, Buffer.concat(parts));
}

export default { scrape };
