// Original file: proto/vigil/v1/vigil.proto


export interface ListTicketsRequest {
}

export interface ListTicketsRequest__Output {
}
