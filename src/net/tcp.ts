/** TCP connect to one address, under a timeout; never throws for network errors. */
import net from "node:net";
import type { Failure } from "./failures.js";
import { classifyTcpError } from "./classify.js";
import { abortReason, type StepSignal } from "./deadline.js";

/** A connect's outcome: the open socket on success (the caller owns and must destroy it). */
export type TcpConnectResult = { socket: net.Socket; failure: null } | { socket: null; failure: Failure };

/** Connects to ip:port; aborting `signal` (the step's timer) ends the attempt as a timeout. */
export function tcpConnect(ip: string, port: number, signal: StepSignal): Promise<TcpConnectResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve({ socket: null, failure: classifyTcpError(abortReason(signal)) });
    const socket = net.connect({ host: ip, port, noDelay: true });
    const cleanup = () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      socket.removeListener("connect", onConnect);
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      resolve({ socket: null, failure: classifyTcpError(abortReason(signal)) });
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      resolve({ socket: null, failure: classifyTcpError(err) });
    };
    const onConnect = () => {
      cleanup();
      resolve({ socket, failure: null });
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", onError);
    socket.once("connect", onConnect);
  });
}
