# A richards-like object workload: a scheduler moving packets between task objects.
# The tasks (workers and devices) pass packets through queues: method calls, attribute updates.
class Packet:
    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * 4


class Task:
    def __init__(self, scheduler, ident, priority):
        self.scheduler = scheduler
        self.ident = ident
        self.priority = priority
        self.queue = []
        self.held = False
        self.count = 0

    def ready(self):
        return not self.held and len(self.queue) > 0

    def run(self, packet):
        raise NotImplementedError


class WorkerTask(Task):
    def __init__(self, scheduler, ident, priority, targets):
        Task.__init__(self, scheduler, ident, priority)
        self.targets = targets
        self.next_target = 0
        self.letter = 0

    def run(self, packet):
        self.count += 1
        target = self.targets[self.next_target]
        self.next_target = (self.next_target + 1) % len(self.targets)
        for i in range(4):
            self.letter = (self.letter + 1) % 26
            packet.data[i] = self.letter
        packet.ident = target
        self.scheduler.send(packet)


class DeviceTask(Task):
    def __init__(self, scheduler, ident, priority, reply_to):
        Task.__init__(self, scheduler, ident, priority)
        self.reply_to = reply_to

    def run(self, packet):
        self.count += 1
        packet.datum = (packet.datum + sum(packet.data)) % 1000003
        packet.ident = self.reply_to
        self.scheduler.send(packet)


class Scheduler:
    def __init__(self):
        self.tasks = {}
        self.steps = 0
        self.idle = 0

    def add(self, task):
        self.tasks[task.ident] = task

    def send(self, packet):
        self.tasks[packet.ident].queue.append(packet)

    def schedule(self, limit):
        order = sorted(self.tasks.values(), key=lambda t: -t.priority)
        while self.steps < limit:
            progressed = False
            for task in order:
                if task.ready():
                    packet = task.queue.pop(0)
                    task.run(packet)
                    self.steps += 1
                    progressed = True
                    break
            if not progressed:
                # Everything runnable is held: the idle step releases the holds.
                self.idle += 1
                for task in order:
                    task.held = False
                continue
            if self.steps % 1000 == 0:
                for task in order:
                    task.held = (self.steps // 1000 + task.ident) % 7 == 0


scheduler = Scheduler()
scheduler.add(WorkerTask(scheduler, 1, 10, [3, 4]))
scheduler.add(WorkerTask(scheduler, 2, 20, [4, 5]))
scheduler.add(DeviceTask(scheduler, 3, 30, 1))
scheduler.add(DeviceTask(scheduler, 4, 40, 2))
scheduler.add(DeviceTask(scheduler, 5, 50, 1))
for n in range(6):
    scheduler.send(Packet(None, 1 + n % 2, n))
scheduler.schedule(100000)
result = [scheduler.steps, scheduler.idle] + [scheduler.tasks[i].count for i in sorted(scheduler.tasks)]
