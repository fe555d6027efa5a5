#!/usr/bin/python3
"""A TCP relay that delays every chunk by a fixed time each way, order kept: a WAN in front of a
broker on loopback (this kernel has no sch_netem, so `tc netem` is not available).

usage: delayrelay.py PORTFILE TARGET_HOST TARGET_PORT DELAY_MS
  Listens on 127.0.0.1 (port written to PORTFILE); each accepted connection is relayed to
  TARGET, every chunk read on either side written to the other DELAY_MS later (so a round trip
  costs 2 * DELAY_MS). A side that closes closes the other after the chunks before it.
  Runs until killed.
"""
import asyncio
import os
import socket
import sys


async def pump(reader, writer, delay):
    q = asyncio.Queue()

    async def later():
        while True:
            due, data = await q.get()
            wait = due - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            try:
                await writer.drain()
            except (ConnectionError, OSError):
                break
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass

    task = asyncio.ensure_future(later())
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            q.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
    except (ConnectionError, OSError):
        q.put_nowait((loop.time() + delay, None))
    await task


async def handle(cr, cw, host, port, delay):
    try:
        sr, sw = await asyncio.open_connection(host, port)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pump(cr, sw, delay), pump(sr, cw, delay))


async def main(portfile, host, port, delay):
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, host, port, delay), "127.0.0.1", 0, backlog=256)
    p = server.sockets[0].getsockname()[1]
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % p)
    os.rename(portfile + ".tmp", portfile)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) / 1000.0))
