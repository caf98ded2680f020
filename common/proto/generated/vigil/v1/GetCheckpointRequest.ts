// Original file: proto/vigil/v1/vigil.proto


export interface GetCheckpointRequest {
}

export interface GetCheckpointRequest__Output {
}
