import net from 'node:net';

/**
 * One raw HTTP/1.1 exchange with `connection: close`, for request lines fetch() would never send
 * (a target no URL parses). Answers the status and everything after the headers, as sent.
 */
export function rawRequest(url: string, requestLine: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(`${requestLine}\r\nhost: ${hostname}\r\nconnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}

/** Request lines whose targets Node hands to the server as they are, and no URL parses. */
export const UNPARSABLE_TARGETS = ['GET //[ HTTP/1.1', 'POST //[::1/graphql HTTP/1.1', 'GET http://[/healthz HTTP/1.1'];
