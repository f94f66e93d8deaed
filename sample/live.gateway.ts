import { UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, WebSocketServer, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { Namespace } from 'socket.io';
import { CognitoAuthGuard, CognitoClaims, RequireGroups, cognitoSocketAuth } from '../lib/index.js';

/**
 * The live page's socket.io gateway (`main.ts` installs `CognitoIoAdapter`). Only signed-in
 * users connect: the browser brings the session cookie on the upgrade, from the app's own
 * origin. Everyone connected sees who else is; the clock needs the `admin` group.
 */
@UseGuards(CognitoAuthGuard)
@WebSocketGateway({ namespace: 'live' })
export class LiveGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() private readonly server!: Namespace;

  handleConnection(): Promise<void> {
    return this.announcePresence();
  }

  handleDisconnect(): Promise<void> {
    return this.announcePresence();
  }

  @RequireGroups('admin')
  @SubscribeMessage('clock')
  clock(@CognitoClaims('username') username: string) {
    return { time: new Date().toISOString(), for: username };
  }

  private async announcePresence(): Promise<void> {
    const sockets = await this.server.fetchSockets();
    const names = sockets.map((socket) => cognitoSocketAuth(socket)?.claims).map((claims) => String(claims?.username ?? claims?.sub ?? 'unknown'));
    this.server.emit('presence', [...new Set(names)].sort());
  }
}
