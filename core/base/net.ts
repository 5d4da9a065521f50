/** Networking helpers shared by the servers flash starts (`flash run`, the emulator). */

/** The `http://host:port` URL of a listening server; an IPv6 host goes in brackets (RFC 3986 §3.2.2). */
export function httpUrl(hostname: string, port: number): string {
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}
