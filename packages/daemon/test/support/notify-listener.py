# A service manager's notify socket, as systemd binds it: AF_UNIX, SOCK_DGRAM, credentials passed. Prints one JSON
# line per datagram ({"at": ms since the epoch, "pid": sender, "fields": {...}}) and closes every descriptor a
# sender passes (systemd-notify's BARRIER=1 waits for that).
import array, json, os, socket, struct, sys, time

path = sys.argv[1]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
listener.bind(path)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": path}), flush=True)
while True:
    data, ancillary, _flags, _address = listener.recvmsg(65536, socket.CMSG_SPACE(4 * 16) + socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
        elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
    print(json.dumps({"at": time.time() * 1000, "pid": pid, "fields": fields}), flush=True)
