// Original file: proto/vigil/v1/vigil.proto


export interface ListAgentsRequest {
}

export interface ListAgentsRequest__Output {
}
