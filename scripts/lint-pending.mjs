export const pendingTs = [];
export const pendingC = [];
