/**
 * The largest vector dimension indexctl accepts (2^16). FaissIndex refuses a larger d before FAISS
 * sees it, so a chunks file past it is refused as bad input when it is opened, naming the column,
 * instead of failing later inside the index wrapper. At this size one vector is already 256 KiB.
 */
export const MAX_DIM = 65_536;
