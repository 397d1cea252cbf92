// Wire names and timings of the NervesHub device socket that the daemon relies on. See CLIENT.md for sources.

/** The channel topic of a device (nerves_hub_web lib/nerves_hub_web/channels/device_socket.ex). */
export const DEVICE_TOPIC = 'device';

/** When the local interface of the connection cannot be told, ask again this much later (nerves_hub_link socket.ex). */
export const NETWORK_INTERFACE_RETRY_MS = 60_000;

/** Upgrade redirects the device socket follows (nerves_hub_link socket.ex @max_redirects). */
export const SOCKET_MAX_REDIRECTS = 2;
