// How many messages one frame carries. Both the LPC channels (ipc/rpc.ts) and the connections
// between app processes (ipc/connection.ts) queue what a turn sends and post it as one frame when
// the turn ends, because each postMessage wakes the receiving thread and that wake-up, not the
// copying, is what a message costs. But a frame that waits for the whole turn makes the threads
// take turns: with 64 handshakes in flight the client answers 64 replies, then the LSA 64 calls,
// then the server 64 tokens, each while the others sleep (null at 64 in flight used 1.14 of the 2
// cores, the ideal raw-message baseline 1.58). A frame that goes once it holds this many messages
// lets the peer start on the first ones while the sender goes on with the rest of its turn.
//
// Measured (null, 64 in flight, one client, the 2-core machine, medians of 3 windows a value;
// README "A frame of at most 32 messages"): at most 4 messages a frame, 1.56 cores and 104 us of
// CPU a handshake (more wake-ups); 8, 1.57 and 89 us; 16, 1.52 and 78 us; 32, 1.44 and 72 us;
// the whole turn, 1.13 and 71 us. 32 keeps the CPU of whole-turn frames and most of the overlap.

/** The most messages a frame holds: the next one goes in a new frame, and this one goes now. */
export const MAX_FRAME_MESSAGES = 32;
