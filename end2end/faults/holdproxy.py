"""A loopback HTTP/1.1 proxy that stops a chosen upload at a chosen byte, so the fault test
can kill silo at a precise point of a real client's upload.

    holdproxy.py LISTEN_PORT TARGET_PORT METHOD PATH_REGEX HOLD NTH REACHED_FILE

Every connection is forwarded byte for byte to 127.0.0.1:TARGET_PORT. Requests are followed
on the client side (request line, headers, Content-Length or chunked body). The NTH request
(1-based, over all connections) whose method is METHOD and whose path matches PATH_REGEX is
held: its headers and the first HOLD bytes of its body are forwarded, then nothing more is
read from that client, and REACHED_FILE is written with the request line and the number of
body bytes forwarded. HOLD is a byte count, "half" (of the body, by its Content-Length or,
for a chunked body, of the bytes on the wire) or "all-but-1". Every other request passes.
Responses are never touched. Standard library only.
"""
import asyncio
import re
import sys

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
method, path_re = sys.argv[3].encode(), re.compile(sys.argv[4])
hold_spec, nth, reached_file = sys.argv[5], int(sys.argv[6]), sys.argv[7]
seen = 0
CHUNKED_HALF = 1024 * 1024  # "half" of a chunked body of unknown length: 1 MiB on the wire


def hold_at(length):
    if hold_spec == "half":
        return length // 2 if length is not None else CHUNKED_HALF
    if hold_spec == "all-but-1":
        return max(length - 1, 0) if length is not None else CHUNKED_HALF
    return int(hold_spec)


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def forward_exactly(reader, writer, n):
    while n > 0:
        data = await reader.read(min(n, 65536))
        if not data:
            return False
        writer.write(data)
        await writer.drain()
        n -= len(data)
    return True


async def client_to_server(reader, writer):
    global seen
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            data = await reader.read(65536)
            if not data:
                writer.close()
                return
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers[b"content-length"]) if b"content-length" in headers else None
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        target = parts[0] == method and len(parts) > 1 and path_re.search(parts[1].decode(errors="replace"))
        if target:
            seen += 1
            target = seen == nth
        writer.write(head + b"\r\n\r\n")
        if target:
            limit = hold_at(length)
            sent = min(limit, len(buf))
            writer.write(buf[:sent])
            await writer.drain()
            ok = await forward_exactly(reader, writer, limit - sent)
            with open(reached_file + ".tmp", "w") as f:
                f.write(f"{lines[0].decode(errors='replace')} held after {limit} body bytes ({'complete' if ok else 'client gone'})\n")
            import os
            os.replace(reached_file + ".tmp", reached_file)
            await asyncio.Event().wait()  # hold forever: silo is about to be killed
        if chunked or (length is None and parts[0] in (b"POST", b"PUT", b"PATCH")):
            # Not followed further: pass the rest of this connection through unparsed.
            writer.write(buf)
            await writer.drain()
            await pipe(reader, writer)
            return
        length = length or 0
        take = min(length, len(buf))
        writer.write(buf[:take])
        await writer.drain()
        buf = buf[take:]
        if not await forward_exactly(reader, writer, length - take):
            writer.close()
            return


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    up = asyncio.create_task(client_to_server(client_reader, server_writer))
    down = asyncio.create_task(pipe(server_reader, client_writer))
    try:
        await asyncio.gather(up, down)
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (server_writer, client_writer):
            try:
                w.close()
            except Exception:
                pass


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
