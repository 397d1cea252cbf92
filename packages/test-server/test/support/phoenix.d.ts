// Minimal typings for the parts of the official `phoenix` client the conformance test uses.
declare module 'phoenix' {
  export interface Push {
    receive(status: string, callback: (response: unknown) => void): Push;
  }
  export class Channel {
    join(timeout?: number): Push;
    on(event: string, callback: (payload: unknown) => void): number;
    push(event: string, payload: object, timeout?: number): Push;
  }
  export class Socket {
    constructor(endPoint: string, options?: Record<string, unknown>);
    connect(): void;
    disconnect(callback?: () => void, code?: number, reason?: string): void;
    channel(topic: string, params?: object | (() => object)): Channel;
    onError(callback: (error: unknown) => void): void;
  }
}
