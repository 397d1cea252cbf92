// Minimal typings for the parts of the official `phoenix` client the tests and benchmarks use.
declare module 'phoenix' {
  export interface PhoenixWireMessage {
    join_ref: unknown;
    ref: unknown;
    topic: unknown;
    event: unknown;
    payload: unknown;
  }
  export const Serializer: {
    encode(message: PhoenixWireMessage, callback: (encoded: string) => void): void;
    decode(raw: string, callback: (message: PhoenixWireMessage) => void): void;
  };
}
