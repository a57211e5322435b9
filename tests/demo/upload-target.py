#!/usr/bin/env python3
"""The demo's central server: a local HTTP server that stores every PUT under DIR (the path of
the URL kept), answers 201, and writes its port to PORTFILE once listening. Usage:
upload-target.py DIR PORTFILE. docs/central.md has the real thing (nginx WebDAV, S3)."""
import http.server
import os
import sys

root, portfile = os.path.abspath(sys.argv[1]), sys.argv[2]


class Put(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        path = os.path.normpath(os.path.join(root, self.path.split("?")[0].lstrip("/")))
        if not path.startswith(root + os.sep):
            self.send_error(403)
            return
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".part", "wb") as f:
            f.write(body)
        os.rename(path + ".part", path)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Put)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
