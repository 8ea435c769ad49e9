// The micro-batching room: one Batcher per pipeline with `batching` set (batcher.ts), and the readers that join
// request bodies and split Wallaroo's answers (json-records.ts, arrow-records.ts). The proxy builds the batchers
// and hands each the one function that calls Wallaroo.
export {
  type BatchCall, Batcher, type BatcherOptions, type BatchRequest, type MemberAnswer, type MemberContext, type WholeAnswer, type WireFormat,
} from './batcher.ts';
