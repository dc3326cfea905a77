import { describe, expect, it } from "vitest";
import { type DavEntry, MultistatusError, MultistatusScanner, parseMultistatus } from "../../src/backends/webdav-multistatus.ts";

const ROOT = "/dav/cache/";
const ARCHIVE = "sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db_populate_sysroot.tar.zst";
const pathOf = (href: string) => (href.startsWith(ROOT) ? decodeURIComponent(href.slice(ROOT.length)).replace(/\/$/, "") : undefined);

/** A Depth: 1 answer as Apache mod_dav_fs sends it, for the collection 0c/9b/ holding one archive. */
const APACHE = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:ns0="DAV:">
<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/" xmlns:g0="DAV:">
<D:href>/dav/cache/0c/9b/</D:href>
<D:propstat>
<D:prop>
<lp1:resourcetype><D:collection/></lp1:resourcetype>
<lp1:getlastmodified>Tue, 01 Dec 2026 21:34:47 GMT</lp1:getlastmodified>
<lp1:getetag>"1000-661994ba5e3b0"</lp1:getetag>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
<D:propstat>
<D:prop>
<g0:getcontentlength/>
</D:prop>
<D:status>HTTP/1.1 404 Not Found</D:status>
</D:propstat>
</D:response>
<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/">
<D:href>/dav/cache/0c/9b/${ARCHIVE.replaceAll(":", "%3a")}</D:href>
<D:propstat>
<D:prop>
<lp1:resourcetype/>
<lp1:getcontentlength>3</lp1:getcontentlength>
<lp1:getlastmodified>Mon, 27 Oct 2025 21:31:36 GMT</lp1:getlastmodified>
<lp1:getetag>"3-6422a9fc02542"</lp1:getetag>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
</D:response>
</D:multistatus>
`;

const COLLECTION: DavEntry = { path: "0c/9b", status: 200, kind: "collection", size: 0, mtimeMs: 0, etag: '"1000-661994ba5e3b0"' };
const FILE: DavEntry = { path: `0c/9b/${ARCHIVE}`, status: 200, kind: "file", size: 3, mtimeMs: Date.parse("2025-10-27T21:31:36Z"), etag: '"3-6422a9fc02542"' };

function parseError(xml: string): string {
  try {
    parseMultistatus(xml, pathOf);
  } catch (error) {
    expect(error).toBeInstanceOf(MultistatusError);
    return (error as Error).message;
  }
  throw new Error("parsed without an error");
}

describe("multistatus answers are read strictly", () => {
  it("reads Apache's answer: the collection itself and its member, percent-decoded", () => {
    expect(parseMultistatus(APACHE, pathOf)).toEqual([COLLECTION, FILE]);
  });

  it("reads the same answer however it is cut into chunks", () => {
    for (const size of [1, 7, 64, 1000]) {
      const scanner = new MultistatusScanner();
      const elements: string[] = [];
      for (let i = 0; i < APACHE.length; i += size) elements.push(...scanner.push(APACHE.slice(i, i + size)));
      scanner.finish();
      expect(elements).toHaveLength(2);
    }
  });

  const whole = APACHE.indexOf("</D:multistatus>");
  it.each([
    ["cut inside the first <response>", APACHE.slice(0, 300), /closing <\/multistatus> tag is missing/],
    ["cut after the last </response>", APACHE.slice(0, whole), /closing <\/multistatus> tag is missing/],
    ["cut inside the closing tag", APACHE.slice(0, whole + 8), /closing <\/multistatus> tag is missing/],
    ["cut before anything", "", /closing <\/multistatus> tag is missing/],
    ["only the prolog and the opening tag", APACHE.slice(0, APACHE.indexOf("<D:response")), /closing <\/multistatus> tag is missing/],
    ["no <multistatus> around the responses", APACHE.replace(/<D:multistatus[^>]*>/, ""), /does not start with <multistatus>/],
    ["an HTML error page", "<html><body><h1>502 Bad Gateway</h1></body></html>", /closing <\/multistatus> tag is missing/],
    ["text between responses", APACHE.replace("</D:response>\n<D:response", "</D:response>\ngarbage<D:response"), /unexpected content between <response> elements/],
    ["content after the closing tag", `${APACHE}<D:response>`, /closing <\/multistatus> tag is missing/],
    ["a response without href", APACHE.replace("<D:href>/dav/cache/0c/9b/</D:href>", ""), /a <response> without <href>/],
    ["a file without its date", APACHE.replace("<lp1:getlastmodified>Mon, 27 Oct 2025 21:31:36 GMT</lp1:getlastmodified>", ""), /has no valid getlastmodified/],
    ["a file with a garbled date", APACHE.replace("Mon, 27 Oct 2025 21:31:36 GMT", "yesterday-ish"), /has no valid getlastmodified/],
    ["a file with a garbled size", APACHE.replace("<lp1:getcontentlength>3<", "<lp1:getcontentlength>3 bytes<"), /has no valid getcontentlength/],
    ["a response without any status", APACHE.replace(/<D:propstat>[\s\S]*?<\/D:propstat>\s*<D:propstat>[\s\S]*?<\/D:propstat>/, ""), /has no status/],
  ])("refuses an answer %s", (_name, xml, message) => {
    expect(parseError(xml)).toMatch(message);
  });

  it("accepts an empty multistatus and one with a response description", () => {
    expect(parseMultistatus('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"/>', pathOf)).toEqual([]);
    expect(parseMultistatus('<?xml version="1.0"?>\n<multistatus xmlns="DAV:">\n</multistatus>\n', pathOf)).toEqual([]);
    const described = APACHE.replace("</D:multistatus>", "<D:responsedescription>partial</D:responsedescription>\n</D:multistatus>");
    expect(parseMultistatus(described, pathOf)).toEqual([COLLECTION, FILE]);
  });

  it("reads a member the server could not read as its status, and a lock-null resource as a placeholder", () => {
    const forbidden = APACHE.replace(
      "</D:multistatus>",
      "<D:response><D:href>/dav/cache/private/</D:href><D:status>HTTP/1.1 403 Forbidden</D:status></D:response>\n</D:multistatus>",
    );
    expect(parseMultistatus(forbidden, pathOf).at(-1)).toMatchObject({ path: "private", status: 403 });
    // What Apache lists for a URL locked before anything was put there.
    const lockNull = APACHE.replace(
      "</D:multistatus>",
      `<D:response><D:href>/dav/cache/0c/9b/locked</D:href><D:propstat><D:prop><lp1:resourcetype xmlns:lp1="DAV:"/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>` +
        `<D:propstat><D:prop><D:getcontentlength/><D:getlastmodified/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>`,
    );
    expect(parseMultistatus(lockNull, pathOf).at(-1)).toMatchObject({ path: "0c/9b/locked", kind: "placeholder" });
  });

  it("leaves out members outside the root", () => {
    expect(parseMultistatus(APACHE.replace("<D:href>/dav/cache/0c/9b/</D:href>", "<D:href>/elsewhere/</D:href>"), pathOf)).toEqual([FILE]);
  });

  it("refuses a <response> that never ends rather than buffering without limit", () => {
    const scanner = new MultistatusScanner();
    scanner.push('<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/cache/x</D:href>');
    expect(() => scanner.push("x".repeat(1 << 20))).toThrow(/no <\/response> within/);
  });
});
