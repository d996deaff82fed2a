/** Server-Sent Events read off a raw HTTP response, for the change feed's tests. */
import type http from 'node:http';

export interface SseMessage {
  event: string;
  /** The message's SSE `id` line, when it has one. */
  id?: string;
  data: any;
}

/** Parses SSE messages as they arrive: `messages` grows; `ended` resolves when the connection closes. */
export function sseMessages(res: http.IncomingMessage): { messages: SseMessage[]; ended: Promise<void> } {
  const messages: SseMessage[] = [];
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event) messages.push({ event, id: /^id: (.*)$/m.exec(block)?.[1], data: data ? JSON.parse(data) : null });
    }
  });
  const ended = new Promise<void>((resolve) => res.on('close', () => resolve()));
  return { messages, ended };
}
