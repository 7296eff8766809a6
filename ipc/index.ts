// ipc/: the LPC transport and nothing else: the typed request/reply peer, the LPC and control
// vocabularies with their decoders, the trace port, errors that cross ports, how a worker starts.
export { type AppRole, type AppWorkerData, type BootMessage, type LsaReport } from './boot.js';
export { Connection } from './connection.js';
export { devtoolsUrl, openInspectorIfAsked, type InspectorRequest } from './inspector.js';
export { exposeControl, guard, transfer, wrapControl, type ControlPort, type Remote } from './control.js';
export { approximateBytes, array, boolean, finite, integer, oneOf, optionalString, record, string } from './decode.js';
export {
  EmuError,
  PackageFault,
  SspiEmuError,
  TransportError,
  decodeSerializedError,
  describeError,
  rebuildError,
  registerErrorClass,
  remoteError,
  serializeError,
  type ErrorCode,
  type MachineErrorCode,
  type PackageFaultCode,
  type SerializedError,
  type TransportErrorCode,
} from './errors.js';
export { asLsaHandle, asProcessId, type LsaHandle, type ProcessId } from './ids.js';
export {
  decodeLpcRequest,
  decodeLsaCall,
  isRefusal,
  lpcCodec,
  MAX_PROTOCOL_BUFFER,
  LPC_VOCABULARY,
  requestBytes,
  detachRequestBytes,
  type ContextReply,
  type LpcOp,
  type LpcReplyBase,
  type ImportedContextDelivery,
  type LsaToProcessOps,
  type MappedContextDelivery,
  type ProcessToLsaOps,
} from './lpc.js';
export {
  SSPI_METHODS,
  decodeAppResult,
  decodeAppStats,
  decodeConnectRequest,
  decodeInjected,
  decodeMachineCall,
  decodeNameRequest,
  decodePortReply,
  decodeSspiResult,
  type AppArgs,
  type AppResult,
  type AppStats,
  type FaultPlan,
  type MachineToProcessOps,
  type ProcessToMachineOps,
  type SspiMethod,
  type UserModeStats,
} from './process-control.js';
export { decodeLpcEndpoint, LPC_SECRET_BYTES, type FramePort, type LpcEndpoint } from './link.js';
export { IpcChannels, IpcPort, type IpcEndpoint } from './process-channel.js';
export { connectLpcSocket, helloBytes, HELLO_MAGIC, SocketFramePort, type SocketPortCutOff, type SocketPortOptions } from './socket-port.js';
export { DeadlineQueue, deadlines, type Deadline } from './deadlines.js';
export { HandleMap } from './handle-map.js';
export { FrameCodec, UnencodableMessage, type DecodedFrame, type FrameVocabulary } from './frame.js';
export { RpcPeer, transferring, type Handlers, type OutgoingFilter } from './rpc.js';
export { Tracer, now, toBase64, type TapRecord, type TraceDownMessage, type TraceEvent, type TracePhase, type TraceUpMessage } from './trace.js';
